// ComfyUI: the "UDW Gallery" node shows its images as a scrollable thumbnail gallery inside the
// node; a click enlarges one (arrow keys browse, Esc closes) with its label and generation
// parameters. Callbacks are chained, never replaced; text from the server goes in as textContent.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { growNode } from "./udw_layout.js";

const CSS = `
.udwg{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));grid-auto-rows:max-content;gap:4px;overflow-y:auto;
height:100%;padding:4px;box-sizing:border-box;background:#0003;border-radius:6px}
.udwg-cell{position:relative;cursor:zoom-in;border:1px solid #fff2;border-radius:5px;overflow:hidden;background:#0005}
.udwg-cell:hover{border-color:#8c8cff}.udwg-cell img{width:100%;aspect-ratio:1/1;object-fit:contain;display:block}
.udwg.udwg-natural{grid-template-columns:repeat(auto-fill,minmax(150px,1fr))}
.udwg.udwg-natural .udwg-cell img{aspect-ratio:auto 16/9;height:auto}
.udwg-cell span.udwg-name{position:static;display:block;white-space:normal;overflow-wrap:anywhere;background:#0009}
.udwg-cell span{position:absolute;left:0;right:0;bottom:0;font:11px system-ui,sans-serif;color:#eee;background:#0009;
padding:1px 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.udwg-empty{color:#999;font:12px system-ui,sans-serif;padding:8px;grid-column:1/-1}
.udwg-box{position:fixed;inset:0;z-index:10000;background:#000d;display:flex;flex-direction:column;align-items:center;
justify-content:center;gap:8px;color:#eee;font:13px system-ui,sans-serif;padding:16px;box-sizing:border-box}
.udwg-box img{max-width:94vw;max-height:calc(100vh - 150px);object-fit:contain;box-shadow:0 6px 30px #000}
.udwg-box .udwg-label{font-weight:600}.udwg-box .udwg-info{max-width:90vw;max-height:80px;overflow:auto;color:#bbb;
white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
.udwg-box button{position:absolute;top:50%;background:#fff2;color:#fff;border:0;border-radius:50%;width:44px;height:44px;
font-size:22px;cursor:pointer}.udwg-box button.udwg-prev{left:16px}.udwg-box button.udwg-next{right:16px}
.udwg-box button.udwg-close{top:16px;right:16px}
`;

const GALLERY_NODES = ["UDWGallery", "UDWDatasetPreview"];

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = String(v);
    else if (k === "className") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  node.append(...children);
  return node;
}

function fileQuery(entry) {
  return new URLSearchParams({ filename: entry.filename, subfolder: entry.subfolder || "", type: entry.type || "output" });
}

// Dataset items (the Dataset Preview) come by dataset and id through the browser's routes; files
// written by the Gallery node by ComfyUI's folder type, subfolder and name.
function urls(entry) {
  if (entry.dataset !== undefined) {
    const q = new URLSearchParams({ dataset: entry.dataset, id: String(entry.id) });
    return { thumb: api.apiURL(`/udw/browser/thumb?${q}`), full: api.apiURL(`/udw/browser/image?${q}`),
      meta: `/udw/browser/item?${q}` };
  }
  const q = fileQuery(entry);
  return { thumb: api.apiURL(`/udw/file/thumb?${q}`), full: api.apiURL(`/view?${q}`), meta: `/udw/file/meta?${q}` };
}

function describe(meta) {
  if (meta.infotext !== undefined) return [meta.infotext || "", ...(meta.notes || [])].join("\n");
  const tags = (meta.tags || []).map((t) => (typeof t === "string" ? t : t.tag || t.name)).filter(Boolean);
  return [meta.caption, tags.length ? `tags: ${tags.join(", ")}` : ""].filter(Boolean).join("\n");
}

function lightbox(entries, start) {
  let index = start;
  const img = el("img", { alt: "" });
  img.addEventListener("load", () => {  // fit the screen, enlarging small images up to 3x
    const scale = Math.min(window.innerWidth * 0.94 / img.naturalWidth,
      (window.innerHeight - 150) / img.naturalHeight, 3);
    img.style.width = `${Math.floor(img.naturalWidth * scale)}px`;
    img.style.height = `${Math.floor(img.naturalHeight * scale)}px`;
  });
  const label = el("div", { className: "udwg-label" });
  const info = el("div", { className: "udwg-info" });
  const close = () => { box.remove(); document.removeEventListener("keydown", keys, true); };
  const show = async (i) => {
    index = (i + entries.length) % entries.length;
    const entry = entries[index];
    const where = urls(entry);
    img.src = where.full;
    label.textContent = `${entry.label || entry.filename}  (${index + 1}/${entries.length})`;
    info.textContent = "";
    try {
      const res = await api.fetchApi(where.meta);
      const meta = await res.json();
      if (entries[index] === entry) info.textContent = describe(meta);
    } catch { /* metadata is optional */ }
  };
  const keys = (e) => {
    if (e.key === "Escape") close();
    else if (e.key === "ArrowRight") show(index + 1);
    else if (e.key === "ArrowLeft") show(index - 1);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  const box = el("div", { className: "udwg-box", "data-udw": "lightbox", onclick: (e) => { if (e.target === box) close(); } },
    img, label, info,
    el("button", { className: "udwg-prev", text: "‹", title: "previous", onclick: () => show(index - 1) }),
    el("button", { className: "udwg-next", text: "›", title: "next", onclick: () => show(index + 1) }),
    el("button", { className: "udwg-close", text: "✕", title: "close (Esc)", onclick: close }));
  document.addEventListener("keydown", keys, true);
  document.body.append(box);
  show(start);
}

function render(container, entries) {
  container.replaceChildren();
  if (!entries?.length) {
    container.append(el("div", { className: "udwg-empty", text: "Run the workflow to see the gallery here." }));
    return;
  }
  entries.forEach((entry, i) => {
    const natural = entry.dataset !== undefined;  // frames at their own aspect, whole names below
    container.classList.toggle("udwg-natural", natural);
    container.append(el("div", { className: "udwg-cell", title: entry.label || entry.filename, "data-udw": "thumb",
      onclick: () => lightbox(entries, i) }, el("img", { src: urls(entry).thumb, loading: "lazy", alt: entry.label || "" }),
      el("span", { className: natural ? "udwg-name" : "", text: entry.label || entry.filename })));
  });
}

app.registerExtension({
  name: "udw.Gallery",
  init() {
    if (!document.getElementById("udwg-style")) document.head.append(el("style", { id: "udwg-style", text: CSS }));
  },
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!GALLERY_NODES.includes(nodeData?.name)) return;
    const created = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const result = created?.apply(this, arguments);
      const container = el("div", { className: "udwg", "data-udw": "gallery" });
      render(container, []);
      const widget = this.addDOMWidget("udw_gallery", "udw-gallery", container, {
        getMinHeight: () => 220, hideOnZoom: false, serialize: false });
      widget.serialize = false;
      widget.serializeValue = () => undefined;
      this.udwGallery = container;
      const [w, h] = this.size;
      this.setSize([Math.max(w, 360), Math.max(h, 420)]);
      return result;
    };
    const executed = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      const result = executed?.apply(this, arguments);
      if (this.udwGallery && message?.udw_gallery) {
        render(this.udwGallery, message.udw_gallery);
        // a node loaded small from a workflow grows so that several images show at a readable size
        if (message.udw_gallery.length > 1) growNode(this, 520, 520);
        this.setDirtyCanvas?.(true, true);
      }
      return result;
    };
  },
});
