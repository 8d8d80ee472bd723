// UDW Studio: grow a node to show its output (a report, a gallery) without covering its
// neighbours: what stood to its right moves right as much as it widened (all together, so those
// nodes keep their layout), and what stood below it in its columns moves down as much as it grew.
export function growNode(node, width, height) {
  const [x, y] = node.pos;
  const [oldW, oldH] = node.size;
  const w = Math.max(oldW, width);
  const h = Math.max(oldH, height);
  if (w === oldW && h === oldH) return;
  node.setSize([w, h]);
  const dx = w - oldW;
  const dy = h - oldH;
  for (const other of node.graph?._nodes ?? []) {
    if (other === node) continue;
    const [ox, oy] = other.pos;
    if (dx > 0 && ox >= x + oldW - 1) other.pos[0] += dx;
    else if (dy > 0 && oy >= y + oldH - 1 && ox < x + w && ox + other.size[0] > x) other.pos[1] += dy;
  }
  node.graph?.setDirtyCanvas?.(true, true);
}
