// UDW Dataset Browser: a paged, filtered thumbnail grid over a dataset manifest, with a detail
// view (tags with confidences, faces drawn, provenance, generation metadata), tag editing per
// image and in batch, and moving an image to another character or bucket.
//
// Host-neutral: it talks to the /udw/browser routes through `io` ({fetch(path, init), url(path)}),
// so ComfyUI's sidebar (udw_browser.js) and a plain page can both mount it. Every string that
// comes from the server is put in the page with textContent, never as HTML.
import { CSS, el } from "./udw_browser_dom.js";
import { detailMethods } from "./udw_browser_detail.js";

function installStyle() {
  if (document.getElementById("udwb-style")) return;
  document.head.append(el("style", { id: "udwb-style", text: CSS }));
}

const FILTER_KEYS = ["tags", "status", "bucket", "character", "episode", "cluster", "text"];

export class UdwBrowser {
  constructor(root, io, options = {}) {
    this.root = root;
    this.io = io;
    this.pageSize = options.pageSize || 60;
    this.popoutTop = options.popoutTop; // () => px: where the host's own bar ends (its Run button stays visible)
    this.state = { dataset: "", filter: { status: "active" }, order: "id", items: [], total: 0, offset: 0 };
    this.detail = null;
    this.seq = 0;
    this.suggestSeq = 0;
    installStyle();
    this.build();
  }

  // -- server -------------------------------------------------------------------------------
  async call(path, params = {}, body = undefined) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") query.set(k, v);
    const init = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const qs = query.toString();
    const res = await this.io.fetch(`/udw/browser/${path}${qs ? "?" + qs : ""}`, init);
    let data = {};
    try { data = await res.json(); } catch { data = { error: `HTTP ${res.status}` }; }
    if (!res.ok) throw new Error(data.error + (data.hint ? ` — ${data.hint}` : ""));
    return data;
  }

  url(path, params) {
    return this.io.url(`/udw/browser/${path}?${new URLSearchParams(params)}`);
  }

  filterParams() {
    const out = {};
    for (const k of FILTER_KEYS) if (this.state.filter[k]) out[k] = this.state.filter[k];
    return out;
  }

  // -- layout -------------------------------------------------------------------------------
  build() {
    const r = this.root;
    r.classList.add("udwb");
    r.replaceChildren();
    this.datasetSel = el("select", { className: "udwb-grow", title: "dataset", "data-udw": "dataset",
      onchange: () => this.open(this.datasetSel.value) });
    this.popBtn = el("button", { text: "⤢", title: "bigger window", onclick: () => this.togglePopout() });
    r.append(el("div", { className: "udwb-row" }, this.datasetSel,
      el("button", { text: "⟳", title: "reload", onclick: () => this.loadDatasets() }), this.popBtn));

    this.tagsInput = el("input", { className: "udwb-grow", placeholder: "tags: 1girl, -smile, red hair|blue hair, * eyes",
      list: "udwb-tag-list", "data-udw": "tags", onkeydown: (e) => { if (e.key === "Enter") this.setFilter("tags", this.tagsInput.value); },
      oninput: () => this.suggest() });
    this.tagList = el("datalist", { id: "udwb-tag-list" });
    this.selects = {};
    const select = (key, title) => (this.selects[key] = el("select", { title, "data-udw": key,
      onchange: () => this.setFilter(key, this.selects[key].value) }));
    this.clusterInput = el("input", { type: "number", placeholder: "cluster", style: "width:86px", "data-udw": "cluster",
      onchange: () => this.setFilter("cluster", this.clusterInput.value) });
    this.orderSel = el("select", { title: "order", onchange: () => { this.state.order = this.orderSel.value; this.refresh(); } },
      ...[["id", "oldest first"], ["newest", "newest first"], ["path", "by path"], ["face", "largest face"]]
        .map(([v, t]) => el("option", { value: v, text: t })));
    r.append(el("div", { className: "udwb-row" }, this.tagsInput, this.tagList,
      el("button", { text: "Filter", className: "udwb-primary", "data-udw": "apply",
        onclick: () => this.setFilter("tags", this.tagsInput.value) })));
    const field = (text, control) => el("label", { className: "udwb-field" }, el("span", { text }), control);
    r.append(el("div", { className: "udwb-row udwb-fields" }, field("Status", select("status", "status")),
      field("Bucket", select("bucket", "bucket")), field("Character", select("character", "character")),
      field("Episode", select("episode", "episode")), field("Cluster", this.clusterInput), field("Order", this.orderSel),
      el("button", { text: "Clear filters", onclick: () => this.clearFilter() })));

    this.info = el("span", { "data-udw": "info" });
    this.batchBtn = el("button", { text: "Batch edit…", onclick: () => this.batchBox.toggleAttribute("hidden") });
    r.append(el("div", { className: "udwb-info" }, this.info, el("span", {},
      el("button", { text: "Check files", title: "mark items whose file is gone as missing", onclick: () => this.checkFiles() }),
      " ", this.batchBtn)));
    this.buildBatch();
    this.error = el("div", { className: "udwb-error", "data-udw": "error" });
    this.grid = el("div", { className: "udwb-grid", "data-udw": "grid" });
    this.sentinel = el("div", { className: "udwb-sentinel" });
    this.grid.append(this.sentinel);
    r.append(this.error, this.grid);
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { root: this.grid, rootMargin: "400px" });
    this.observer.observe(this.sentinel);
    this.keys = (e) => this.onKey(e);
    document.addEventListener("keydown", this.keys);
  }

  buildBatch() {
    this.batchOp = el("select", { "data-udw": "batch-op", onchange: () => this.batchShape() },
      ...["add", "remove", "replace", "regex"].map((v) => el("option", { value: v, text: v })));
    this.batchArg1 = el("input", { className: "udwb-grow", placeholder: "tags, comma separated", "data-udw": "batch-arg1" });
    this.batchArg2 = el("input", { className: "udwb-grow", placeholder: "replacement", hidden: "", "data-udw": "batch-arg2" });
    this.batchOut = el("div", { "data-udw": "batch-out" });
    this.batchBox = el("div", { className: "udwb-batch", hidden: "" },
      el("div", { text: "Edit the tags of every item that matches the current filter (manifest and caption files)." }),
      el("div", { className: "udwb-row" }, this.batchOp, this.batchArg1, this.batchArg2),
      el("div", { className: "udwb-row" },
        el("button", { text: "Preview", "data-udw": "batch-preview", onclick: () => this.batch(true) }),
        el("button", { text: "Apply", className: "udwb-primary", "data-udw": "batch-apply", onclick: () => this.batch(false) })),
      this.batchOut);
    this.root.append(this.batchBox);
  }

  batchShape() {
    const op = this.batchOp.value;
    this.batchArg2.toggleAttribute("hidden", !(op === "replace" || op === "regex"));
    this.batchArg1.placeholder = { add: "tags to add", remove: "tags to remove", replace: "old tag", regex: "pattern" }[op];
    this.batchArg2.placeholder = op === "regex" ? "replacement (\\1 for groups; empty removes)" : "new tag";
  }

  togglePopout() {
    if (!this.home) {
      this.home = el("div", { text: "UDW Dataset Browser is open in a bigger window." });
      this.root.replaceWith(this.home);
      document.body.append(this.root);
      if (this.popoutTop) this.root.style.setProperty("--udwb-pop-top", `${Math.round(this.popoutTop())}px`);
      this.root.classList.add("udwb-popout");
      this.popBtn.textContent = "⤡";
    } else {
      this.root.classList.remove("udwb-popout");
      this.home.replaceWith(this.root);
      this.home = null;
      this.popBtn.textContent = "⤢";
    }
  }

  destroy() {
    this.observer.disconnect();
    document.removeEventListener("keydown", this.keys);
    if (this.home) this.togglePopout();
  }

  showError(err) {
    this.error.textContent = err ? String(err.message || err) : "";
  }

  // -- datasets and filters -----------------------------------------------------------------
  async loadDatasets(preferred) {
    try {
      const data = await this.call("datasets");
      const keep = preferred || this.state.dataset || localStorage.getItem("udw.browser.dataset") || "";
      this.datasetSel.replaceChildren(el("option", { value: "", text: data.datasets.length ? "— choose a dataset —"
        : "no dataset found in " + data.roots.join(", ") }),
        ...data.datasets.map((d) => el("option", { value: d.path, text: d.label })));
      // the remembered dataset, else the only one there is
      const pick = data.datasets.some((d) => d.path === keep) ? keep
        : data.datasets.length === 1 ? data.datasets[0].path : "";
      if (pick) {
        this.datasetSel.value = pick;
        await this.open(pick);
      }
    } catch (err) { this.showError(err); }
  }

  async open(dataset) {
    this.state.dataset = dataset;
    localStorage.setItem("udw.browser.dataset", dataset);
    if (!dataset) return;
    const [facets] = await Promise.all([this.call("facets", { dataset }).catch((e) => (this.showError(e), null)),
      this.refresh()]);
    if (facets) this.fillFacets(facets);
  }

  fillFacets(f) {
    this.facets = f;
    const fill = (key, label, values) => {
      const sel = this.selects[key];
      const current = this.state.filter[key] || "";
      sel.replaceChildren(el("option", { value: key === "status" ? "active" : "", text: label }),
        ...values.map(([value, text]) => el("option", { value, text })));
      sel.value = current || (key === "status" ? "active" : "");
    };
    fill("status", `active (${f.statuses.active || 0})`, [...Object.entries(f.statuses).filter(([s]) => s !== "active")
      .map(([s, n]) => [s, `${s} (${n})`]), ["any", "any status"]]);
    fill("bucket", "any bucket", f.buckets.map((b) => [b.value, `${b.value} (${b.count})`]));
    fill("character", "any character", [["(none)", "(no character)"], ...f.characters.map((c) => [c.value, `${c.value} (${c.count})`])]);
    fill("episode", "any episode", f.episodes.map((e) => [e.value, `${e.value.replace("/", " ")} (${e.count})`]));
  }

  setFilter(key, value) {
    this.state.filter[key] = value;
    this.refresh();
  }

  clearFilter() {
    this.state.filter = { status: "active" };
    this.tagsInput.value = "";
    this.clusterInput.value = "";
    for (const [k, sel] of Object.entries(this.selects)) sel.value = k === "status" ? "active" : "";
    this.refresh();
  }

  async suggest() {
    const last = this.tagsInput.value.split(",").pop().trim().replace(/^[-!]/, "");
    if (!this.state.dataset || last.length < 1 || last.includes("*")) return;
    const seq = ++this.suggestSeq;
    try {
      const data = await this.call("suggest", { dataset: this.state.dataset, prefix: last, limit: 15 });
      if (seq !== this.suggestSeq) return;
      const head = this.tagsInput.value.slice(0, this.tagsInput.value.lastIndexOf(",") + 1);
      const neg = /,?\s*[-!]\s*[^,]*$/.test(this.tagsInput.value) ? "-" : "";
      this.tagList.replaceChildren(...data.tags.map((t) => el("option",
        { value: `${head}${head ? " " : ""}${neg}${t.tag}`, label: `${t.tag} (${t.count})` })));
    } catch { /* suggestions are optional */ }
  }

  // -- grid ---------------------------------------------------------------------------------
  async refresh() {
    if (!this.state.dataset) return;
    const seq = ++this.seq;
    const t0 = performance.now();
    this.root.dataset.udwState = "loading";
    try {
      const page = await this.call("page", { dataset: this.state.dataset, offset: 0, limit: this.pageSize,
        order: this.state.order, ...this.filterParams() });
      if (seq !== this.seq) return;
      this.showError(null);
      this.state.items = page.items;
      this.state.total = page.total;
      for (const tile of this.grid.querySelectorAll(".udwb-tile")) tile.remove();
      this.grid.scrollTop = 0;
      this.addTiles(page.items);
      this.showInfo(page.ms);
      this.report(t0, page);
    } catch (err) {
      if (seq === this.seq) { this.showError(err); this.root.dataset.udwState = "error"; }
    }
  }

  report(t0, page) {
    // Timings for tests and benchmarks: fetch+render now, images when the first page has loaded.
    const rendered = performance.now();
    // The thumbnails a user sees first: those inside the grid's visible box (lazy ones below never load).
    const box = this.grid.getBoundingClientRect();
    const imgs = [...this.grid.querySelectorAll(".udwb-tile img")].slice(0, this.pageSize).filter((img) => {
      const r = img.getBoundingClientRect();
      return r.bottom > box.top && r.top < box.bottom && r.right > box.left && r.left < box.right;
    });
    const done = () => {
      const detail = { serverMs: page.ms, renderedMs: rendered - t0, imagesMs: performance.now() - t0, total: page.total };
      this.root.dataset.udwState = "ready";
      this.root.dispatchEvent(new CustomEvent("udw-browser-page", { detail }));
    };
    const pending = imgs.filter((img) => !img.complete);
    if (!pending.length) return done();
    let left = pending.length;
    for (const img of pending) {
      const one = () => { if (--left === 0) done(); };
      img.addEventListener("load", one, { once: true });
      img.addEventListener("error", one, { once: true });
    }
  }

  showInfo(ms) {
    const shown = this.grid.querySelectorAll(".udwb-tile").length;
    this.info.textContent = `${this.state.total.toLocaleString()} items · showing ${shown} · ${ms.toFixed(0)} ms`;
    this.info.dataset.udwEmpty = this.state.total ? "" : "1";
    if (!this.state.total) this.info.textContent = `0 items · ${this.emptyReason()}`;
  }

  // Why a filter matched nothing, in words a user can act on.
  emptyReason() {
    const f = this.state.filter;
    if (f.tags && this.facets && !this.facets.tagged) {
      return "this dataset has no tags yet, so a tag filter matches nothing: run the tag step first " +
        "(UDW Tag Dataset, or UDW Build Dataset with tag on)";
    }
    const set = FILTER_KEYS.filter((k) => f[k] && !(k === "status" && f[k] === "active"));
    return set.length ? `no item matches ${set.join(" + ")}; loosen or clear the filters`
      : "the dataset has no active items";
  }

  async loadMore() {
    const have = this.state.items.length;
    if (!this.state.dataset || this.loadingMore || have >= this.state.total || !have) return;
    this.loadingMore = true;
    const seq = this.seq;
    try {
      const page = await this.call("page", { dataset: this.state.dataset, offset: have, limit: this.pageSize,
        order: this.state.order, ...this.filterParams() });
      if (seq !== this.seq) return;
      this.state.items.push(...page.items);
      this.addTiles(page.items);
      this.showInfo(page.ms);
    } catch (err) { this.showError(err); } finally { this.loadingMore = false; }
  }

  addTiles(items) {
    const start = this.state.items.length - items.length;
    const frag = document.createDocumentFragment();
    items.forEach((item, k) => {
      const tile = el("div", { className: "udwb-tile", "data-id": item.id, title: item.path,
        onclick: () => this.openDetail(start + k) },
        // The first screenful loads at once; the rest only when scrolled near (lazy).
        el("img", { loading: start + k < 40 ? "eager" : "lazy", decoding: "async", alt: item.name,
          src: this.url("thumb", { dataset: this.state.dataset, id: item.id }) }),
        el("span", { text: item.name }));
      if (item.status !== "active") tile.append(el("span", { className: "udwb-badge", text: item.status }));
      frag.append(tile);
    });
    this.grid.insertBefore(frag, this.sentinel);
    // Re-observe: an observer only reports changes, and the sentinel may still be in range.
    this.observer.unobserve(this.sentinel);
    this.observer.observe(this.sentinel);
  }

  async checkFiles() {
    try {
      const r = await this.call("check", {}, { dataset: this.state.dataset, filter: this.filterParams() });
      this.info.textContent = `checked ${r.checked}: ${r.missing} missing, ${r.found_again} found again`;
      this.open(this.state.dataset);
    } catch (err) { this.showError(err); }
  }

  async batch(dryRun) {
    const body = { dataset: this.state.dataset, filter: this.filterParams(), op: this.batchOp.value,
      arg1: this.batchArg1.value, arg2: this.batchArg2.value, dry_run: dryRun };
    try {
      if (!dryRun) {
        const preview = await this.call("batch", {}, { ...body, dry_run: true });
        if (!preview.items) { this.batchOut.textContent = "nothing to change"; return; }
        if (!window.confirm(`${preview.summary}. Apply?`)) return;
      }
      const r = await this.call("batch", {}, body);
      this.batchOut.replaceChildren(el("div", { text: r.summary }),
        ...r.examples.slice(0, 5).map((x) => el("div", { className: "udwb-muted",
          text: `${x.path}: ${x.removed.length ? "−" + x.removed.join(", ") : ""} ${x.added.length ? "+" + x.added.join(", ") : ""}` })));
      if (!dryRun) this.open(this.state.dataset);
    } catch (err) { this.batchOut.textContent = String(err.message || err); }
  }

}

Object.assign(UdwBrowser.prototype, detailMethods);

export function mountBrowser(root, io, options) {
  const browser = new UdwBrowser(root, io, options);
  browser.loadDatasets(options?.dataset);
  return browser;
}
