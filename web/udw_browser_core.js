// UDW Dataset Browser: a paged, filtered thumbnail grid over a dataset manifest, with a detail
// view (tags with confidences, faces drawn, provenance, generation metadata), tag editing per
// image and in batch, and moving an image to another character or bucket.
//
// Host-neutral: it talks to the /udw/browser routes through `io` ({fetch(path, init), url(path)}),
// so ComfyUI's sidebar (udw_browser.js) and a plain page can both mount it. Every string that
// comes from the server is put in the page with textContent, never as HTML.

const CSS = `
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
.udwb-tile span{display:block;font-size:11px;padding:2px 6px 3px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:var(--udwb-muted)}
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
.udwb-popout{position:fixed!important;inset:3vh 3vw;z-index:9999;border:1px solid var(--udwb-line);
border-radius:12px;box-shadow:0 10px 40px #000a;height:auto!important}
`;

function el(tag, props = {}, ...children) {
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
    r.append(el("div", { className: "udwb-row" }, select("status", "status"), select("bucket", "bucket"),
      select("character", "character"), select("episode", "episode"), this.clusterInput, this.orderSel,
      el("button", { text: "Clear", onclick: () => this.clearFilter() })));

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
      if (data.datasets.some((d) => d.path === keep)) {
        this.datasetSel.value = keep;
        await this.open(keep);
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

  // -- detail -------------------------------------------------------------------------------
  onKey(e) {
    if (!this.detail || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) return;
    if (e.key === "Escape") this.closeDetail();
    else if (e.key === "ArrowRight") this.openDetail(this.detail.index + 1);
    else if (e.key === "ArrowLeft") this.openDetail(this.detail.index - 1);
    else return;
    e.preventDefault();
  }

  closeDetail() {
    this.detailBox?.remove();
    this.detailBox = null;
    this.detail = null;
  }

  async openDetail(index) {
    if (index < 0 || index >= this.state.items.length) return;
    const item = this.state.items[index];
    for (const t of this.grid.querySelectorAll(".udwb-current")) t.classList.remove("udwb-current");
    this.grid.querySelector(`[data-id="${item.id}"]`)?.classList.add("udwb-current");
    try {
      const d = await this.call("item", { dataset: this.state.dataset, id: item.id });
      this.detail = { index, data: d, tags: d.tags.map((t) => ({ ...t })) };
      this.renderDetail();
    } catch (err) { this.showError(err); }
  }

  renderDetail() {
    const { data: d, index } = this.detail;
    const ds = this.state.dataset;
    const frame = el("div", { className: "udwb-frame" });
    if (d.exists) {
      const img = el("img", { src: this.url("image", { dataset: ds, id: d.item.id }), alt: d.name, "data-udw": "detail-img" });
      // Fit (and enlarge small frames) to the free area; the face boxes are percentages of the img box.
      img.addEventListener("load", () => {
        const area = img.closest(".udwb-dimg");
        if (!area || !img.naturalWidth) return;
        const scale = Math.min(area.clientWidth / img.naturalWidth, area.clientHeight / img.naturalHeight, 4);
        img.style.width = `${Math.floor(img.naturalWidth * scale)}px`;
        img.style.height = `${Math.floor(img.naturalHeight * scale)}px`;
      });
      frame.append(img);
      const colors = ["#ff6384", "#36a2eb", "#ffce56", "#4bc0c0", "#9966ff", "#ff9f40"];
      for (const f of d.faces) {
        if (!f.box) continue;
        const [x0, y0, x1, y1] = f.box;
        const c = colors[f.idx % colors.length];
        frame.append(el("div", { className: "udwb-face", "data-udw": "face",
          style: `left:${x0 * 100}%;top:${y0 * 100}%;width:${(x1 - x0) * 100}%;height:${(y1 - y0) * 100}%;border-color:${c}` },
          el("span", { style: `background:${c}`, text: `${f.character || "face"} ${Number(f.score).toFixed(2)}` })));
      }
    } else {
      frame.append(el("div", { className: "udwb-error", text: `file missing: ${d.item.path}` }));
    }
    const side = el("div", { className: "udwb-dside" });
    side.append(this.tagSection(), this.moveSection(d), this.kvSection("Provenance", this.provenance(d)));
    if (d.metadata) side.append(this.metaSection(d.metadata));
    for (const [suffix, text] of Object.entries(d.sidecars || {})) {
      side.append(el("details", {}, el("summary", { text: `sidecar ${suffix}` }), el("pre", { text })));
    }
    const box = el("div", { className: "udwb-detail", "data-udw": "detail" },
      el("div", { className: "udwb-dhead" },
        el("button", { text: "←", title: "previous (←)", onclick: () => this.openDetail(index - 1) }),
        el("button", { text: "→", title: "next (→)", onclick: () => this.openDetail(index + 1) }),
        el("span", { className: "udwb-title", text: `${d.item.path}  ·  ${index + 1} / ${this.state.total}` }),
        el("button", { text: "✕", title: "close (Esc)", "data-udw": "detail-close", onclick: () => this.closeDetail() })),
      el("div", { className: "udwb-dbody" }, el("div", { className: "udwb-dimg" }, frame), side));
    box.classList.add("udwb");
    box.addEventListener("click", (e) => { if (e.target === box) this.closeDetail(); });
    if (this.detailBox) this.detailBox.replaceWith(box); else document.body.append(box);
    this.detailBox = box;
  }

  tagSection() {
    const chips = el("div", { className: "udwb-chips", "data-udw": "chips" });
    const draw = () => chips.replaceChildren(...this.detail.tags.map((t, k) => el("span", {
      className: `udwb-chip udwb-${t.category}${t.isNew ? " udwb-new" : ""}`, "data-tag": t.tag,
      title: `${t.category} · ${Number(t.score).toFixed(3)}`, style: `--s:${Math.round(t.score * 100)}%` },
      t.tag, el("button", { text: "×", title: "remove", onclick: () => { this.detail.tags.splice(k, 1); draw(); } }))));
    draw();
    const add = el("input", { className: "udwb-grow", placeholder: "add tags (Enter)", list: "udwb-tag-list", "data-udw": "tag-add",
      onkeydown: (e) => {
        if (e.key !== "Enter") return;
        for (const tag of add.value.split(",").map((s) => s.trim()).filter(Boolean)) {
          if (!this.detail.tags.some((t) => t.tag === tag)) this.detail.tags.push({ tag, category: "general", score: 1, isNew: true });
        }
        add.value = "";
        draw();
      } });
    const status = el("span", { className: "udwb-muted", "data-udw": "tag-status" });
    const save = el("button", { text: "Save tags", className: "udwb-primary", "data-udw": "tag-save", onclick: async () => {
      try {
        const r = await this.call("tags", {}, { dataset: this.state.dataset, id: this.detail.data.item.id,
          tags: this.detail.tags.map((t) => t.tag) });
        status.textContent = `saved: +${r.added} −${r.removed}, ${r.sidecars} caption files`;
        const index = this.detail.index;
        await this.openDetail(index);
      } catch (err) { status.textContent = String(err.message || err); }
    } });
    return el("div", {}, el("h4", { text: `Tags (${this.detail.tags.length})` }), chips,
      el("div", { className: "udwb-row", style: "margin-top:6px" }, add, save), status);
  }

  moveSection(d) {
    const chars = (this.facets?.characters || []).map((c) => el("option", { value: c.value }));
    const buckets = (this.facets?.buckets || []).filter((b) => b.value !== "(none)").map((b) => el("option", { value: b.value }));
    const main = d.faces.find((f) => f.character) || d.faces[0];
    const character = el("input", { placeholder: "character", list: "udwb-char-list", value: main?.character || "", "data-udw": "move-character" });
    const bucket = el("input", { placeholder: "bucket", list: "udwb-bucket-list", value: d.item.bucket || "", "data-udw": "move-bucket" });
    const out = el("span", { className: "udwb-muted" });
    const go = el("button", { text: "Move", "data-udw": "move", onclick: async () => {
      try {
        const body = { dataset: this.state.dataset, id: d.item.id };
        if (character.value !== (main?.character || "")) body.character = character.value;
        if (bucket.value !== (d.item.bucket || "")) body.bucket = bucket.value;
        if (!("character" in body) && !("bucket" in body)) { out.textContent = "nothing changed"; return; }
        const r = await this.call("move", {}, body);
        out.textContent = r.summary;
        this.state.items[this.detail.index].path = r.path;
        await this.openDetail(this.detail.index);
      } catch (err) { out.textContent = String(err.message || err); }
    } });
    return el("div", {}, el("h4", { text: "Character and bucket" }),
      el("datalist", { id: "udwb-char-list" }, ...chars), el("datalist", { id: "udwb-bucket-list" }, ...buckets),
      el("div", { className: "udwb-row" }, character, bucket, go), out);
  }

  provenance(d) {
    const p = d.provenance;
    const rows = [["file", d.item.path], ["size", d.width && d.height ? `${d.width}×${d.height}` : ""],
      ["status", d.item.status + (p.duplicate_of ? ` of ${p.duplicate_of.path}` : "")],
      ["source", p.source ? p.source.path : ""], ["series", [p.series, p.episode].filter(Boolean).join(" ")],
      ["frame", p.frame_index ?? ""], ["time", p.timecode || ""], ["scene", p.scene ?? ""], ["cluster", p.cluster ?? ""],
      ["duplicates", p.duplicates || ""], ["bucket", d.item.bucket || ""], ["licence", p.source?.licence || ""],
      ["parent", p.parent ? p.parent.path : ""], ["added", p.created || ""],
      ...d.stages.map((s) => [`stage ${s.stage}`, `${s.ok ? "ok" : "failed"} ${s.finished || ""} ${s.error || ""}`]),
      ...d.faces.map((f) => [`face ${f.idx}`, `${f.character || "?"} (${f.character_score ?? "-"}) det ${Number(f.score).toFixed(2)} ${f.detector || ""}`])];
    return rows.filter(([, v]) => v !== "" && v !== null && v !== undefined);
  }

  kvSection(title, rows) {
    return el("div", {}, el("h4", { text: title }),
      el("div", { className: "udwb-kv" }, ...rows.flatMap(([k, v]) => [el("div", { text: k }), el("div", { text: v })])));
  }

  metaSection(m) {
    const info = m.info;
    const rows = info ? [["prompt", info.prompt], ["negative", info.negative], ["seed", info.seed ?? ""],
      ["steps", info.steps ?? ""], ["cfg", info.cfg ?? ""], ["sampler", [info.sampler, info.scheduler].filter(Boolean).join(" ")],
      ["model", info.model || ""], ["loras", (info.loras || []).map(([n, w]) => `${n} (${w})`).join(", ")],
      ["source", info.source]].filter(([, v]) => v !== "" && v !== null) : [["parameters", "none found"]];
    const box = this.kvSection("Generation", rows);
    box.setAttribute("data-udw", "meta");
    for (const w of m.warnings || []) box.append(el("div", { className: "udwb-error", text: `⚠ ${w}` }));
    box.append(el("details", {}, el("summary", { text: "raw metadata" }), el("pre", { text: m.raw, "data-udw": "meta-raw" })));
    return box;
  }
}

export function mountBrowser(root, io, options) {
  const browser = new UdwBrowser(root, io, options);
  browser.loadDatasets(options?.dataset);
  return browser;
}
