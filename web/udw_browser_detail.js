// The detail view of the UDW Dataset Browser: the image with its faces, tags to edit, moving to
// another character or bucket, provenance and generation metadata. Methods of UdwBrowser.
import { el } from "./udw_browser_dom.js";

export const detailMethods = {
  onKey(e) {
    if (!this.detail || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) return;
    if (e.key === "Escape") this.closeDetail();
    else if (e.key === "ArrowRight") this.openDetail(this.detail.index + 1);
    else if (e.key === "ArrowLeft") this.openDetail(this.detail.index - 1);
    else return;
    e.preventDefault();
  },

  closeDetail() {
    this.detailBox?.remove();
    this.detailBox = null;
    this.detail = null;
  },

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
  },

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
  },

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
  },

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
  },

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
  },

  kvSection(title, rows) {
    return el("div", {}, el("h4", { text: title }),
      el("div", { className: "udwb-kv" }, ...rows.flatMap(([k, v]) => [el("div", { text: k }), el("div", { text: v })])));
  },

  metaSection(m) {
    const info = m.info;
    const rows = info ? [["prompt", info.prompt], ["negative", info.negative], ["seed", info.seed ?? ""],
      ["steps", info.steps ?? ""], ["cfg", info.cfg ?? ""], ["sampler", [info.sampler, info.scheduler].filter(Boolean).join(" ")],
      ["model", info.model || ""],
      ["loras", (info.loras || []).map((l) => `${l.name} (${l.weight}${l.clip_weight != null ? `, text encoder ${l.clip_weight}` : ""})`).join(", ")],
      ...(m.notes || []).filter((n) => !n.startsWith("LoRA: ")).map((n) => { const [k, ...v] = n.split(": "); return [k, v.join(": ")]; }),
      ["source", info.source]].filter(([, v]) => v !== "" && v !== null) : [["parameters", "none found"]];
    const box = this.kvSection("Generation", rows);
    box.setAttribute("data-udw", "meta");
    for (const w of m.warnings || []) box.append(el("div", { className: "udwb-error", text: `⚠ ${w}` }));
    box.append(el("details", {}, el("summary", { text: "raw metadata" }), el("pre", { text: m.raw, "data-udw": "meta-raw" })));
    return box;
  },
};
