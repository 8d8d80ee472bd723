// UDW Studio: grow a node to show its output (a report, a gallery) without covering its
// neighbours: nodes to its right that it would now overlap move right by as much as it grew.
export function growNode(node, width, height) {
  const [x, y] = node.pos;
  const [oldW, oldH] = node.size;
  const w = Math.max(oldW, width);
  const h = Math.max(oldH, height);
  if (w === oldW && h === oldH) return;
  node.setSize([w, h]);
  const dx = w - oldW;
  for (const other of node.graph?._nodes ?? []) {
    if (other === node) continue;
    const [ox, oy] = other.pos;
    const right = ox >= x + oldW - 1;                       // it stood to the right of this node
    const below = oy < y + h && oy + other.size[1] > y;     // and shares rows with it now
    if (right && below && ox < x + w + 20) other.pos[0] += dx + 20;
  }
  node.graph?.setDirtyCanvas?.(true, true);
}
