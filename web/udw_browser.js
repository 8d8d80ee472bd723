// ComfyUI: the UDW Dataset Browser as a sidebar tab (and a bigger floating window from its ⤢ button).
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { mountBrowser } from "./udw_browser_core.js";

const io = {
  fetch: (path, init) => api.fetchApi(path, init),
  url: (path) => api.apiURL(path),
};

// The bigger window opens below ComfyUI's top bar and its Run button, so a run can still be started.
function popoutTop() {
  const bars = [...document.querySelectorAll(".comfyui-menu, .actionbar, .comfy-menu-button-wrapper, button")]
    .filter((el) => el.matches(".comfyui-menu, .actionbar") || el.innerText?.trim() === "Run")
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.height > 0 && r.top < window.innerHeight / 3);
  return Math.max(64, ...bars.map((r) => r.bottom + 8));
}

app.registerExtension({
  name: "udw.DatasetBrowser",
  async setup() {
    const manager = app.extensionManager;
    if (!manager?.registerSidebarTab) {
      console.warn("[udw] this ComfyUI frontend has no sidebar tabs; the dataset browser is unavailable");
      return;
    }
    let browser = null;
    manager.registerSidebarTab({
      id: "udw-dataset-browser",
      icon: "pi pi-images",
      title: "UDW Browser",
      tooltip: "UDW Dataset Browser: filter, inspect and tag dataset images",
      type: "custom",
      render: (el) => {
        browser?.destroy();
        el.style.height = "100%";
        const root = document.createElement("div");
        root.style.height = "100%";
        el.replaceChildren(root);
        browser = mountBrowser(root, io, { popoutTop });
      },
      destroy: () => { browser?.destroy(); browser = null; },
    });
  },
});
