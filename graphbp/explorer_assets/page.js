// The δ explorer of graphbp: draws the network from the JSON above and explains eq. 5.56 for any unit.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graphbp-data").textContent);
  const nodes = data.nodes;            // in topological order: {label, repr, x, y, role, activation, bias, dead}
  const edges = data.edges;            // [i, j, w_ji, ∂E/∂w_ji summed over the batch]
  const SVG = "http://www.w3.org/2000/svg";
  const ROW = 64, RADIUS = 17;   // one layout unit of height, and a unit's radius, in SVG units
  // ColorBrewer RdBu reversed (matplotlib's RdBu_r): blue for δ < 0, white at 0, red for δ > 0.
  const RDBU_R = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                  "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"].map(hex =>
                  [1, 3, 5].map(k => parseInt(hex.slice(k, k + 2), 16)));

  const successorEdges = nodes.map(() => []);   // edge indices j -> k, in G.successors(j) order
  const predecessorEdges = nodes.map(() => []);
  edges.forEach((e, index) => { successorEdges[e[0]].push(index); predecessorEdges[e[1]].push(index); });
  const unitOf = new Array(nodes.length);        // position of each node's unit in the backward sweep
  data.sweep.forEach((unit, position) => unit.forEach(i => { unitOf[i] = position; }));

  const state = { slot: data.shown, selected: null, pinned: false, quantity: "delta", edgeValue: "weight",
                  revealed: null, timer: null, scale: 1, tx: 0, ty: 0 };
  const $ = id => document.getElementById(id);
  const graph = $("graph"), viewport = $("viewport"), panel = $("panel");
  // Columns are spread so that the whole network has the window's shape: tall and wide graphs fill it.
  const extent = key => Math.max(...nodes.map(n => n[key])) - Math.min(...nodes.map(n => n[key])) + 1;
  const view = graph.getBoundingClientRect();
  const COLUMN = Math.max(nodes.length <= data.max_labelled ? 150 : 80,
                          ROW * extent("y") * (view.width || 800) / ((view.height || 500) * extent("x")));
  const px = i => nodes[i].x * COLUMN, py = i => -nodes[i].y * ROW;

  function svg(tag, attributes) {
    const element = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    return element;
  }
  // HTML built from text nodes only: node names are never parsed as markup.
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    for (const child of children.flat()) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }
  const sub = text => h("sub", null, text);
  const fmt = v => (v === null || v === undefined) ? "–" : String(Number(v.toPrecision(4)));
  const paren = v => v < 0 ? `(${fmt(v)})` : fmt(v);
  const pair = (k, j) => k + (String(j).length > 1 ? "," : "") + j;   // w_kj, or w_k,h1 for longer names
  const sample = () => data.samples[state.slot];
  const isRevealed = i => state.revealed === null || unitOf[i] < state.revealed;
  const symbol = { delta: "δ", a: "a", z: "z" };

  function colour(value, limit) {
    const t = Math.max(0, Math.min(1, (value / limit + 1) / 2)) * (RDBU_R.length - 1);
    const k = Math.min(Math.floor(t), RDBU_R.length - 2), f = t - k;
    const rgb = RDBU_R[k].map((c, m) => Math.round(c + f * (RDBU_R[k + 1][m] - c)));
    return { fill: `rgb(${rgb.join(",")})`, dark: rgb[0] * 0.3 + rgb[1] * 0.59 + rgb[2] * 0.11 < 110 };
  }

  // ---- drawing -------------------------------------------------------------------------------------
  function curve(i, j, shortenBy) {
    const x1 = px(i), y1 = py(i), x2 = px(j), y2 = py(j);
    const dx = x2 - x1, dy = y2 - y1;
    // Edges spanning several columns bend away from the units they pass, as in draw().
    const bend = Math.abs(dx) > 1.5 * COLUMN ? 0.12 : 0.04;
    const cx = (x1 + x2) / 2 - bend * dy, cy = (y1 + y2) / 2 + bend * dx;
    let ex = x2, ey = y2;
    if (shortenBy) {
      const tx = x2 - cx, ty = y2 - cy, length = Math.hypot(tx, ty) || 1;
      ex = x2 - tx / length * shortenBy; ey = y2 - ty / length * shortenBy;
    }
    return { d: `M${x1.toFixed(1)},${y1.toFixed(1)}Q${cx.toFixed(1)},${cy.toFixed(1)} ${ex.toFixed(1)},${ey.toFixed(1)}`,
             mid: [0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2] };
  }

  function drawEdges() {
    // One path per width class: thousands of edges stay one element each class, not one each.
    const column = state.edgeValue === "weight" ? 2 : 3;
    const largest = edges.reduce((m, e) => Math.max(m, Math.abs(e[column])), 0) || 1;
    const classes = [[], [], [], []];
    for (const e of edges) {
      classes[Math.min(3, Math.floor(4 * Math.abs(e[column]) / largest))].push(curve(e[0], e[1]).d);
    }
    $("edges").replaceChildren(...classes.map((parts, k) =>
      svg("path", { d: parts.join(""), class: "edge", "stroke-width": (0.5 + 0.9 * k).toFixed(1) })));
  }

  const circles = nodes.map((node, i) => {
    const circle = svg("circle", { cx: px(i), cy: py(i), r: RADIUS, class: "unit" + (node.dead ? " dead" : ""),
                                   "data-node": node.label, "data-index": i });
    const tip = svg("title");
    tip.textContent = node.repr;
    circle.append(tip);
    return circle;
  });
  $("nodes").append(...circles);
  const names = nodes.map((node, i) => {
    const text = svg("text", { x: px(i), y: py(i), class: "name" });
    text.textContent = node.label.length > 8 ? node.label.slice(0, 7) + "…" : node.label;
    return text;
  });
  const values = nodes.map((node, i) => svg("text", { x: px(i), y: py(i) + RADIUS + 12, class: "value" }));
  $("labels").append(...names, ...values);

  function paint() {
    const current = sample();
    const limit = current.delta.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    circles.forEach((circle, i) => {
      const delta = current.delta[i];
      circle.setAttribute("data-delta", String(delta));
      circle.setAttribute("data-revealed", String(isRevealed(i)));
      const { fill, dark } = isRevealed(i) ? colour(delta, limit) : { fill: "#e0e0e0", dark: false };
      circle.setAttribute("fill", fill);
      names[i].setAttribute("fill", dark ? "#fff" : "#000");
      const shown = state.quantity !== "delta" || isRevealed(i) ? fmt(current[state.quantity][i]) : "?";
      values[i].textContent = `${symbol[state.quantity]}=${shown}`;
    });
    $("vmin").textContent = fmt(-limit);
    $("vmax").textContent = fmt(limit);
    $("summary").textContent = `${data.loss_name}: E = ${fmt(data.loss)} over ${data.batch} sample` +
      `${data.batch === 1 ? "" : "s"}; sample ${current.sample}: E_n = ${fmt(current.loss)}`;
  }

  // ---- highlight and eq. 5.56 ---------------------------------------------------------------------
  function select(i, pin) {
    state.selected = i;
    state.pinned = pin && i !== null;
    graph.classList.toggle("focus", i !== null);
    const mark = (circle, kind) => { circle.classList.add(kind); circle.setAttribute("data-highlight", kind); };
    circles.forEach(c => { c.classList.remove("selected", "successor"); c.removeAttribute("data-highlight"); });
    const highlight = $("highlight");
    highlight.replaceChildren();
    if (i === null) { explainNothing(); return; }
    mark(circles[i], "selected");
    const current = sample(), labelTerms = successorEdges[i].length <= 12;
    for (const e of successorEdges[i]) {
      const [, k, w] = edges[e];
      mark(circles[k], "successor");
      const { d, mid } = curve(i, k, RADIUS + 2);
      highlight.append(svg("path", { d, class: "hl-edge" }));
      if (labelTerms && isRevealed(k)) {
        const term = svg("text", { x: mid[0], y: mid[1] - 4, class: "term", "text-anchor": "middle" });
        term.textContent = `${paren(w)}·${paren(current.delta[k])} = ${fmt(w * current.delta[k])}`;
        highlight.append(term);
      }
    }
    explain(i);
  }

  function explainNothing() {
    panel.replaceChildren(
      h("p", { class: "hint" }, "Hover over a unit, or click it to pin it: its summation set S", sub("j"),
        " = G.successors(j) lights up and eq. 5.56 is written out with the numbers of the sample shown."),
      h("p", { class: "hint" }, "▶ steps through the backward sweep: units get their δ in reverse topological " +
        "order, each only after every unit it feeds."));
  }

  function equationHead(node, j) {
    const sum = ["Σ", sub(["k ∈ S", sub(j)]), " w", sub(pair("k", j)), " δ", sub("k")];
    if (node.role === "input") return ["δ", sub(j), " = ∂E", sub("n"), "/∂x", sub(j), " = ", ...sum, "   (eq. 5.55, h = identity)"];
    if (node.activation === "softmax") {
      return ["δ", sub(j), " = ∂E", sub("n"), "/∂a", sub(j), "|", sub("direct"), " + Σ", sub("m"), " ∂z", sub("m"),
              "/∂a", sub(j), " · Σ", sub("k ∈ S_m"), " w", sub("km"), " δ", sub("k"), "   (softmax group)"];
    }
    const slope = ["h′(a", sub(j), ") · "];
    if (node.role === "output") return ["δ", sub(j), " = ∂E", sub("n"), "/∂a", sub(j), "|", sub("direct"), " + ", ...slope, ...sum, "   (eqs. 5.54, 5.56)"];
    return ["δ", sub(j), " = ", ...slope, ...sum, "   (eq. 5.56)"];
  }

  function explain(i) {
    const node = nodes[i], current = sample(), j = node.label;
    const terms = successorEdges[i].map(e => [edges[e][1], edges[e][2], current.delta[edges[e][1]]]);
    const total = terms.reduce((s, [, w, d]) => s + w * d, 0);
    const parts = [
      h("h2", null, j),
      h("div", { class: "role" }, `${node.role} unit, h = ${node.activation}` +
        (node.role === "input" ? "" : `, b = ${fmt(node.bias)}`) + ` · sample ${current.sample}`),
      h("div", { class: "equation" }, equationHead(node, j)),
      h("div", null, "S", sub(j), ` = G.successors(${node.repr}) = {`,
        terms.map(([k]) => nodes[k].label).join(", "), "}"),
    ];
    if (terms.length) {
      parts.push(h("table", null,
        h("tr", null, h("th", null, "k"), h("th", null, "w", sub(pair("k", j))), h("th", null, "δ", sub("k")),
          h("th", null, "w·δ")),
        terms.map(([k, w, d]) => h("tr", null, h("td", null, nodes[k].label), h("td", null, fmt(w)),
          h("td", null, isRevealed(k) ? fmt(d) : "?"), h("td", null, isRevealed(k) ? fmt(w * d) : "?"))),
        h("tr", null, h("td", null, "Σ"), h("td"), h("td"), h("td", { class: "result" }, fmt(total)))));
    } else {
      parts.push(h("p", { class: "note" }, node.role === "output"
        ? "S_j is empty: only the loss's direct term reaches E." : "S_j is empty: a_j never reaches E, so δ_j = 0."));
    }
    if (node.dead && terms.length) parts.push(h("p", { class: "note" }, "No output is reachable from this unit: every δ in S_j is 0."));
    const slope = current.slope[i], direct = current.direct[i], delta = current.delta[i];
    const lead = node.role === "output" ? `${fmt(direct)} + ` : "";
    if (node.role === "input") {
      parts.push(h("p", { class: "result" }, "δ", sub(j), ` = ${fmt(total)}`));
    } else if (slope === null) {
      parts.push(h("p", null, "∂E", sub("n"), "/∂a", sub(j), "|", sub("direct"), ` = ${fmt(direct)}`),
        h("p", { class: "result" }, "δ", sub(j), ` = ${fmt(delta)}`));
    } else {
      parts.push(h("p", null, "h′(a", sub(j), `) = ${node.activation}′(${fmt(current.a[i])}) = ${fmt(slope)}`),
        node.role === "output" ? h("p", null, "direct term ∂E", sub("n"), "/∂a", sub(j), ` = ${fmt(direct)}`) : "",
        h("p", { class: "result" }, "δ", sub(j), ` = ${lead}${fmt(slope)} × ${fmt(total)} = ${fmt(delta)}`));
    }
    parts.push(h("table", null,
      h("tr", null, h("td", null, "a", sub(j)), h("td", null, fmt(current.a[i]))),
      h("tr", null, h("td", null, "z", sub(j)), h("td", null, fmt(current.z[i]))),
      h("tr", null, h("td", null, "δ", sub(j)), h("td", null, isRevealed(i) ? fmt(delta) : "?"))));
    if (predecessorEdges[i].length) {
      parts.push(h("details", null, h("summary", null, `∂E/∂w of the ${predecessorEdges[i].length} edges into ${j} (eq. 5.53)`),
        h("table", null,
          h("tr", null, h("th", null, "i"), h("th", null, "w", sub(pair(j, "i"))), h("th", null, "z", sub("i")),
            h("th", null, "δ", sub(j), "z", sub("i")), h("th", null, "∂E/∂w (Σ", sub("n"), ")")),
          predecessorEdges[i].map(e => {
            const [p, , w, grad] = edges[e];
            return h("tr", null, h("td", null, nodes[p].label), h("td", null, fmt(w)), h("td", null, fmt(current.z[p])),
              h("td", null, fmt(delta * current.z[p])), h("td", null, fmt(grad)));
          })),
        h("p", null, "∂E/∂b", sub(j), " = Σ", sub("n"), " δ", sub(j), ` = ${fmt(data.grad_bias[i])}`)));
    }
    panel.replaceChildren(...parts);
  }

  // ---- backward sweep -----------------------------------------------------------------------------
  function reveal(count) {
    state.revealed = count === null ? null : Math.max(0, Math.min(data.sweep.length, count));
    paint();
    const status = $("sweep-status");
    if (state.revealed === null) { status.textContent = ""; return; }
    if (state.revealed === 0) { status.textContent = `0 / ${data.sweep.length}: no δ yet`; select(null, false); return; }
    const unit = data.sweep[state.revealed - 1];
    status.textContent = `${state.revealed} / ${data.sweep.length}: δ of ` + unit.map(i => nodes[i].label).join(", ");
    select(unit[0], true);
  }
  function stopPlaying() {
    if (state.timer !== null) { clearInterval(state.timer); state.timer = null; $("sweep-play").textContent = "play"; }
  }
  $("sweep-reset").addEventListener("click", () => { stopPlaying(); reveal(0); });
  $("sweep-back").addEventListener("click", () => { stopPlaying(); reveal((state.revealed ?? data.sweep.length) - 1); });
  $("sweep-step").addEventListener("click", () => { stopPlaying(); reveal((state.revealed ?? 0) + 1); });
  $("sweep-all").addEventListener("click", () => { stopPlaying(); reveal(null); select(null, false); });
  $("sweep-play").addEventListener("click", () => {
    if (state.timer !== null) { stopPlaying(); return; }
    if (state.revealed === null || state.revealed >= data.sweep.length) reveal(0);
    $("sweep-play").textContent = "pause";
    const pause = Math.max(40, Math.min(700, 15000 / data.sweep.length));
    state.timer = setInterval(() => {
      reveal(state.revealed + 1);
      if (state.revealed >= data.sweep.length) stopPlaying();
    }, pause);
  });

  // ---- controls -----------------------------------------------------------------------------------
  const chooser = $("sample");
  data.samples.forEach((s, slot) => chooser.append(new Option(`${s.sample} of ${data.batch}`, String(slot))));
  chooser.value = String(state.slot);
  chooser.addEventListener("change", () => {
    state.slot = Number(chooser.value);
    paint();
    if (state.selected !== null) select(state.selected, state.pinned);
  });
  document.querySelectorAll('input[name="quantity"]').forEach(input => input.addEventListener("change", () => {
    state.quantity = input.value; paint();
  }));
  document.querySelectorAll('input[name="edge-value"]').forEach(input => input.addEventListener("change", () => {
    state.edgeValue = input.value; drawEdges();
  }));
  const list = $("node-names");
  nodes.forEach(node => list.append(new Option(node.label)));
  $("find").addEventListener("change", event => {
    const text = event.target.value;
    const i = nodes.findIndex(node => node.label === text || node.repr === text);
    if (i < 0) return;
    state.scale = Math.max(state.scale, 1);
    const box = graph.getBoundingClientRect();
    state.tx = box.width / 2 - px(i) * state.scale;
    state.ty = box.height / 2 - py(i) * state.scale;
    applyView();
    select(i, true);
  });

  // Hover previews a unit; a click pins it until Esc, a click on the background or another unit.
  $("nodes").addEventListener("mouseover", event => {
    const i = event.target.getAttribute && event.target.getAttribute("data-index");
    if (i !== null && i !== undefined && !state.pinned) select(Number(i), false);
  });
  $("nodes").addEventListener("mouseout", () => { if (!state.pinned) select(null, false); });
  $("nodes").addEventListener("click", event => {
    const i = event.target.getAttribute("data-index");
    if (i !== null) select(Number(i), true);
  });
  document.addEventListener("keydown", event => { if (event.key === "Escape") select(null, false); });

  // ---- pan and zoom -------------------------------------------------------------------------------
  function applyView() {
    viewport.setAttribute("transform", `translate(${state.tx},${state.ty}) scale(${state.scale})`);
    // Units stay at least 2.5 screen pixels wide when zoomed out; labels appear once they fit.
    const radius = Math.min(0.3 * COLUMN, Math.max(RADIUS, 2.5 / state.scale));
    circles.forEach(c => c.setAttribute("r", radius.toFixed(2)));
    graph.classList.toggle("show-labels", nodes.length <= data.max_labelled || state.scale >= 0.75);
  }
  function fit() {
    const box = graph.getBoundingClientRect();
    const xs = nodes.map((n, i) => px(i)), ys = nodes.map((n, i) => py(i));
    const left = Math.min(...xs) - 60, right = Math.max(...xs) + 60;
    const top = Math.min(...ys) - 50, bottom = Math.max(...ys) + 60;
    state.scale = Math.min(1.6, (box.width || 800) / (right - left), (box.height || 500) / (bottom - top));
    state.tx = ((box.width || 800) - state.scale * (left + right)) / 2;
    state.ty = ((box.height || 500) - state.scale * (top + bottom)) / 2;
    applyView();
  }
  $("fit").addEventListener("click", fit);
  graph.addEventListener("wheel", event => {
    event.preventDefault();
    const box = graph.getBoundingClientRect(), mx = event.clientX - box.left, my = event.clientY - box.top;
    const factor = Math.exp(-event.deltaY * 0.0015);
    state.tx = mx - (mx - state.tx) * factor;
    state.ty = my - (my - state.ty) * factor;
    state.scale *= factor;
    applyView();
  }, { passive: false });
  let drag = null;
  graph.addEventListener("pointerdown", event => {
    if (event.target.classList && event.target.classList.contains("unit")) return;
    drag = { x: event.clientX, y: event.clientY, tx: state.tx, ty: state.ty, moved: false };
    graph.classList.add("panning");
  });
  window.addEventListener("pointermove", event => {
    if (!drag) return;
    drag.moved = drag.moved || Math.hypot(event.clientX - drag.x, event.clientY - drag.y) > 3;
    state.tx = drag.tx + event.clientX - drag.x;
    state.ty = drag.ty + event.clientY - drag.y;
    applyView();
  });
  window.addEventListener("pointerup", () => {
    if (drag && !drag.moved && state.revealed === null) select(null, false);
    drag = null;
    graph.classList.remove("panning");
  });
  window.addEventListener("resize", fit);

  graph.classList.toggle("dense", edges.length > 1000);
  drawEdges();
  paint();
  fit();
  // page.html#node=NAME opens with that unit pinned (a link to one unit's eq. 5.56).
  const linked = location.hash.startsWith("#node=") ? decodeURIComponent(location.hash.slice(6)) : null;
  const start = nodes.findIndex(node => node.label === linked || node.repr === linked);
  if (start >= 0) select(start, true); else explainNothing();
  document.body.setAttribute("data-ready", "true");
})();
