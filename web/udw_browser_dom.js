// DOM helpers of the UDW Dataset Browser: its styles (namespaced .udwb classes, ComfyUI theme
// variables when present) and `el`, which sets text with textContent only.
export const CSS = `
.udwb{--udwb-bg:var(--comfy-menu-bg,#1e1e24);--udwb-fg:var(--fg-color,#e6e6ec);--udwb-muted:#9a9aa6;
--udwb-line:var(--border-color,#3a3a46);--udwb-input:var(--comfy-input-bg,#2a2a33);--udwb-accent:#7c7cff;
display:flex;flex-direction:column;gap:6px;height:100%;min-height:0;padding:8px;box-sizing:border-box;
background:var(--udwb-bg);color:var(--udwb-fg);font:13px/1.4 system-ui,sans-serif}
.udwb *{box-sizing:border-box}.udwb [hidden]{display:none!important}
.udwb input,.udwb select,.udwb button,.udwb textarea{font:inherit;color:var(--udwb-fg);background:var(--udwb-input);
border:1px solid var(--udwb-line);border-radius:6px;padding:4px 7px;min-width:0}
.udwb button{cursor:pointer}.udwb button:hover{border-color:var(--udwb-accent)}
.udwb button.udwb-primary{background:var(--udwb-accent);border-color:var(--udwb-accent);color:#fff}
.udwb-row{display:flex;gap:6px;flex-wrap:wrap;align-items:center}.udwb-row>.udwb-grow{flex:1 1 140px}
.udwb-info{color:var(--udwb-muted);display:flex;justify-content:space-between;gap:8px;align-items:center}
.udwb-error{color:#ff7b7b;white-space:pre-wrap}
.udwb-grid{flex:1 1 auto;min-height:120px;overflow:auto;display:grid;gap:6px;align-content:start;
grid-template-columns:repeat(auto-fill,minmax(var(--udwb-tile,104px),1fr));grid-auto-rows:max-content}
.udwb-tile{position:relative;border:1px solid var(--udwb-line);border-radius:8px;overflow:hidden;cursor:pointer;
background:#0004;display:block}
.udwb-tile:hover,.udwb-tile.udwb-current{border-color:var(--udwb-accent)}
.udwb-tile img{width:100%;aspect-ratio:1/1;object-fit:contain;display:block;background:#0003}
.udwb-tile span{display:block;font-size:11px;line-height:1.3;padding:2px 5px 3px;white-space:normal;overflow-wrap:anywhere;color:var(--udwb-muted)}
.udwb-field{display:flex;flex-direction:column;gap:1px;font-size:11px;color:var(--udwb-muted);min-width:0}
.udwb-fields{align-items:flex-end}
.udwb-info[data-udw-empty="1"],.udwb-info span[data-udw-empty="1"]{color:#ffc266}
.udwb-tile span.udwb-badge{position:absolute;top:4px;left:4px;background:#c0392bcc;color:#fff;border-radius:4px;font-size:10px;padding:1px 5px}
.udwb-sentinel{height:1px;grid-column:1/-1}
.udwb-batch{border:1px solid var(--udwb-line);border-radius:8px;padding:6px;display:flex;flex-direction:column;gap:6px}
.udwb-detail{position:fixed;inset:0;z-index:10000;background:#000c;display:flex;flex-direction:column;padding:14px}
.udwb-dhead{display:flex;gap:8px;align-items:center;color:#fff;margin-bottom:8px}
.udwb-dhead .udwb-title{flex:1;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.udwb-dbody{flex:1;min-height:0;display:flex;gap:14px}
.udwb-dimg{flex:1 1 60%;min-width:0;min-height:0;display:flex;align-items:center;justify-content:center}
.udwb-frame{position:relative;display:inline-block;max-width:100%;max-height:100%}
.udwb-frame img{display:block;max-width:100%;max-height:calc(100vh - 90px);image-rendering:auto}
.udwb-face{position:absolute;border:2px solid;border-radius:3px;pointer-events:none}
.udwb-face span{position:absolute;left:-2px;bottom:100%;font-size:11px;color:#000;padding:0 4px;white-space:nowrap}
.udwb-dside{flex:0 0 min(420px,45%);overflow:auto;background:var(--udwb-bg);border-radius:10px;padding:10px;
display:flex;flex-direction:column;gap:10px}
.udwb-dside h4{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--udwb-muted)}
.udwb-chips{display:flex;flex-wrap:wrap;gap:4px}
.udwb-chip{display:inline-flex;align-items:center;gap:4px;border:1px solid var(--udwb-line);border-radius:99px;
padding:1px 4px 1px 8px;font-size:12px;background:linear-gradient(90deg,#7c7cff44 var(--s,0%),transparent var(--s,0%))}
.udwb-chip.udwb-character{border-color:#4fb0ff}.udwb-chip.udwb-rating{border-color:#e0a040}
.udwb-chip.udwb-new{border-style:dashed}
.udwb-chip button{border:0;background:none;padding:0 4px;color:var(--udwb-muted)}
.udwb-kv{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;font-size:12px}
.udwb-kv div:nth-child(odd){color:var(--udwb-muted)}.udwb-kv div{overflow-wrap:anywhere}
.udwb pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:11px;max-height:260px;overflow:auto;margin:4px 0 0}
.udwb-popout{position:fixed!important;inset:var(--udwb-pop-top,64px) 3vw 3vh calc(3vw + var(--udwb-pop-left,0px));z-index:9999;border:1px solid var(--udwb-line);
border-radius:12px;box-shadow:0 10px 40px #000a;height:auto!important}
`;

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
