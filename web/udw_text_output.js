// Show the text a UDW node returns in its `ui.text` (checkpoint reports, import summaries) in a
// read-only box on the node. Text goes into a textarea's value, never into HTML.
import { app } from "../../scripts/app.js";
import { ComfyWidgets } from "../../scripts/widgets.js";

const WIDGET = "udw_text";

app.registerExtension({
  name: "udw.textOutput",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData?.name?.startsWith("UDW")) return;
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      const result = onExecuted?.apply(this, arguments);
      const text = message?.text;
      if (text && text.length) {
        let widget = this.widgets?.find((w) => w.name === WIDGET);
        if (!widget) {
          widget = ComfyWidgets.STRING(this, WIDGET, ["STRING", { multiline: true }], app).widget;
          widget.serialize = false; // not part of the workflow's widget values
          if (widget.inputEl) {
            widget.inputEl.readOnly = true;
            widget.inputEl.style.fontFamily = "monospace";
          }
        }
        widget.value = Array.isArray(text) ? text.join("\n") : String(text);
        this.setDirtyCanvas?.(true, true);
      }
      return result;
    };
  },
});
