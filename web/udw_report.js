// UDW Studio: show a node's text report (the `text` entry of its UI output) under the node, in a
// read-only panel sized to its text. Steps the node skipped (its `udw_warnings` entry) are listed
// in amber at the top and the node turns amber, so a skipped step is seen without reading.
// One feature per file; the existing onExecuted callback is chained, never replaced.
import { app } from "../../scripts/app.js";
import { growNode } from "./udw_layout.js";

const WIDGET = "udw_report";
const LINE_PX = 17;
const MAX_PX = 420; // longer reports scroll inside the panel
const MARGIN = 10;
const CHAR_PX = 7.3; // about the width of a character of the panel's 12 px monospace font
const WARN = { color: "#8a5a00", bgcolor: "#4a3510" };
const CSS = `
.udw-report{font:12px/${LINE_PX}px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#e4e4e4;
background:#0006;border:1px solid #fff1;border-radius:6px;padding:6px 8px;box-sizing:border-box;white-space:pre-wrap;
overflow-wrap:anywhere;overflow-y:auto;user-select:text;cursor:text}
.udw-report .udw-warn-head{display:block;background:#b26b00;color:#fff;font:600 12px/${LINE_PX}px system-ui,sans-serif;
border-radius:4px;padding:2px 6px;margin-bottom:4px}
.udw-report .udw-warn{color:#ffc266}
`;

function ensureStyle() {
  if (document.getElementById("udw-report-style")) return;
  const style = document.createElement("style");
  style.id = "udw-report-style";
  style.textContent = CSS;
  document.head.append(style);
}

function line(text, className) {
  const span = document.createElement("span");
  if (className) span.className = className;
  span.textContent = text + "\n";
  return span;
}

// The panel's lines: a heading naming the skipped steps, then the report with their lines marked.
function fill(panel, text, warnings, width) {
  panel.replaceChildren();
  const skipped = warnings.map((w) => w.split(":")[0].trim()).filter(Boolean);
  if (skipped.length) {
    const head = line(`⚠ skipped: ${skipped.join(", ")} (see below for what to do)`, "udw-warn-head");
    head.dataset.udw = "report-warning";
    panel.append(head);
  }
  let inWarning = false;
  for (const row of text.split("\n")) {
    const step = row.trim().split(":")[0];
    if (row.startsWith("  ") && !row.startsWith("      ")) inWarning = skipped.includes(step);
    panel.append(line(row, inWarning ? "udw-warn" : ""));
  }
  // its height at this width, long lines wrapped: measured on an off-screen copy, + the margin
  // ComfyUI keeps around a DOM widget (10 px a side)
  const probe = panel.cloneNode(true);
  Object.assign(probe.style, { position: "fixed", left: "-10000px", top: "0", width: `${width - 2 * MARGIN}px`,
    height: "auto", overflow: "visible" });
  document.body.append(probe);
  const height = probe.getBoundingClientRect().height;
  probe.remove();
  return Math.min(MAX_PX, Math.ceil(height) + 2) + 2 * MARGIN;
}

function markNode(node, warned) {
  if (warned) {
    node.udwColours ??= { color: node.color, bgcolor: node.bgcolor };
    Object.assign(node, WARN);
  } else if (node.udwColours) {
    Object.assign(node, node.udwColours);
    node.udwColours = undefined;
  }
}

// The progress previews a node sent while it ran (video frames) stay drawn over the report once it
// is done unless removed; a node whose result has images of its own keeps those.
function dropPreviews(node) {
  const id = String(node.id);
  if (app.nodePreviewImages && id in app.nodePreviewImages) delete app.nodePreviewImages[id];
  // the frontend's canvas preview widget draws node.imgs: it goes with them
  const preview = node.widgets?.find((w) => w.name === "$$canvas-image-preview");
  if (preview) {
    if (node.removeWidget) node.removeWidget(preview);
    else node.widgets.splice(node.widgets.indexOf(preview), 1);
  }
  node.imgs = undefined;
  node.imageIndex = null;
}

function showReport(node, text, warnings, hasImages) {
  ensureStyle();
  if (!hasImages) dropPreviews(node);
  let widget = node.widgets?.find((w) => w.name === WIDGET);
  if (!widget) {
    const panel = document.createElement("div");
    panel.className = "udw-report";
    panel.dataset.udw = "report";
    widget = node.addDOMWidget(WIDGET, "udw-report", panel, {
      serialize: false, hideOnZoom: false, margin: MARGIN,
      getMinHeight: () => widget.udwHeight ?? 40, getMaxHeight: () => widget.udwHeight ?? 40 });
    widget.serialize = false;
    widget.serializeValue = () => undefined;
  }
  const widest = Math.max(...text.split("\n").map((r) => r.length));
  const width = Math.max(node.size[0], Math.min(720, Math.ceil(widest * CHAR_PX + 2 * MARGIN + 18)));
  widget.udwHeight = fill(widget.element, text, warnings, width);
  widget.value = text;
  markNode(node, warnings.length > 0);
  growNode(node, width, node.computeSize([width, 0])[1]);
  node.setDirtyCanvas?.(true, true);
}

app.registerExtension({
  name: "udw.Report",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData?.name?.startsWith("UDW")) return;
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      const result = onExecuted?.apply(this, arguments);
      const text = message?.text;
      if (Array.isArray(text) && text.length) {
        showReport(this, text.join("\n"), Array.isArray(message.udw_warnings) ? message.udw_warnings : [],
          Array.isArray(message.images) && message.images.length > 0);
      }
      return result;
    };
  },
});
