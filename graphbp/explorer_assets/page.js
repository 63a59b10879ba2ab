// The δ explorer of graphbp: draws the network from the JSON above and explains eq. 5.56 for any unit.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graphbp-data").textContent);
  const nodes = data.nodes;   // in topological order: {label, repr, x, y, role, activation, bias, dead}
  // {source, target, weight, grad (∂E/∂w summed over the batch), path (the control points of its cubic Bézier
  // pieces in layout units, as graphbp.drawing routes it round the units), label_at (where its term may go)}
  const edges = data.edges;
  const SVG = "http://www.w3.org/2000/svg";
  // Every text of the drawing is in this font; its width is measured with the same font on a canvas.
  const FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif";
  const NAME_PX = 12, BESIDE_PX = 11, VALUE_PX = 10, TERM_PX = 10, MIN_PX = 9, GAP = 2;   // pixels
  // ColorBrewer RdBu reversed (matplotlib's RdBu_r): blue for δ < 0, white at 0, red for δ > 0.
  const RDBU_R = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                  "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"].map(hex =>
                  [1, 3, 5].map(k => parseInt(hex.slice(k, k + 2), 16)));

  const successorEdges = nodes.map(() => []);   // edge indices j -> k, in G.successors(j) order
  const predecessorEdges = nodes.map(() => []);
  edges.forEach((e, index) => { successorEdges[e.source].push(index); predecessorEdges[e.target].push(index); });
  const unitOf = new Array(nodes.length);        // position of each node's unit in the backward sweep
  data.sweep.forEach((unit, position) => unit.forEach(i => { unitOf[i] = position; }));

  // The view: a point p (layout units) is drawn at tx + zoom·fx·p.x·scale.x, ty − zoom·fy·p.y·scale.y. At
  // fx = fy = 1 the drawing is the one the edges were routed for; `base` = min(fx, fy) scales the units' radius.
  const state = { slot: data.shown, selected: null, pinned: false, quantity: "delta", edgeValue: "weight",
                  revealed: null, timer: null, zoom: 1, tx: 0, ty: 0, fx: 1, fy: 1, base: 1, dark: [] };
  const $ = id => document.getElementById(id);
  const graph = $("graph"), panel = $("panel");
  const refX = p => p.x * data.scale.x, refY = p => -p.y * data.scale.y;
  const screenX = p => state.tx + state.zoom * state.fx * refX(p);
  const screenY = p => state.ty + state.zoom * state.fy * refY(p);
  const unitRadius = () => Math.max(2.5, data.radius * state.base * state.zoom);

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
  // A long name keeps both ends: names that differ only at the end (("layer", 1), ("layer", 2)) stay apart.
  const short = label => label.length > 24 ? label.slice(0, 11) + "…" + label.slice(-12) : label;

  function colour(value, limit) {
    const t = Math.max(0, Math.min(1, (value / limit + 1) / 2)) * (RDBU_R.length - 1);
    const k = Math.min(Math.floor(t), RDBU_R.length - 2), f = t - k;
    const rgb = RDBU_R[k].map((c, m) => Math.round(c + f * (RDBU_R[k + 1][m] - c)));
    return { fill: `rgb(${rgb.join(",")})`, dark: rgb[0] * 0.3 + rgb[1] * 0.59 + rgb[2] * 0.11 < 110 };
  }

  // ---- edges: the routed courses of graphbp.drawing, ending at the circle with an arrowhead --------
  const bezier = (q, t) => [0, 1].map(c => (1 - t) ** 3 * q[0][c] + 3 * (1 - t) ** 2 * t * q[1][c] +
                                           3 * (1 - t) * t ** 2 * q[2][c] + t ** 3 * q[3][c]);
  const tangent = (q, t) => [0, 1].map(c => (1 - t) ** 2 * (q[1][c] - q[0][c]) + 2 * (1 - t) * t * (q[2][c] - q[1][c]) +
                                            t ** 2 * (q[3][c] - q[2][c]));
  function split(q, t) {   // de Casteljau: the pieces [0, t] and [t, 1]
    const mix = (a, b) => [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    const ab = mix(q[0], q[1]), bc = mix(q[1], q[2]), cd = mix(q[2], q[3]), abc = mix(ab, bc), bcd = mix(bc, cd);
    const m = mix(abc, bcd);
    return [[q[0], ab, abc, m], [m, bcd, cd, q[3]]];
  }
  // Where a piece leaves (or enters) the circle of radius r round its first (last) point, by bisection.
  function crossing(q, r, atEnd) {
    const centre = atEnd ? q[3] : q[0], away = t => Math.hypot(...bezier(q, t).map((v, c) => v - centre[c])) > r;
    let lo = 0, hi = 1;
    for (let step = 0; step < 24; step++) {
      const mid = (lo + hi) / 2;
      if (away(mid) === atEnd) lo = mid; else hi = mid;
    }
    return (lo + hi) / 2;
  }
  function edgeGeometry(e, arrow) {
    const points = e.path.map(p => [screenX(p), screenY(p)]);
    let pieces = [];
    for (let k = 1; k + 2 < points.length; k += 3) pieces.push([points[k - 1], points[k], points[k + 1], points[k + 2]]);
    const r = unitRadius();
    pieces[0] = split(pieces[0], crossing(pieces[0], r, false))[1];
    const last = pieces.length - 1, t = crossing(pieces[last], r + 1, true);
    pieces[last] = split(pieces[last], t)[0];
    const tip = pieces[last][3], direction = tangent(pieces[last], 1), length = Math.hypot(...direction) || 1;
    const u = direction.map(v => v / length), n = [-u[1], u[0]];
    const head = [tip, [tip[0] - arrow * u[0] + 0.45 * arrow * n[0], tip[1] - arrow * u[1] + 0.45 * arrow * n[1]],
                  [tip[0] - arrow * u[0] - 0.45 * arrow * n[0], tip[1] - arrow * u[1] - 0.45 * arrow * n[1]]];
    const f = v => v.toFixed(1);
    return { d: `M${f(pieces[0][0][0])},${f(pieces[0][0][1])}` +
                pieces.map(q => `C${q.slice(1).map(p => `${f(p[0])},${f(p[1])}`).join(" ")}`).join(""),
             arrow: `M${head.map(p => `${f(p[0])},${f(p[1])}`).join("L")}Z` };
  }
  const arrowSize = () => Math.max(4, Math.min(10, 0.6 * unitRadius()));

  const edgePaths = edges.map(e => svg("path", { class: "edge", "data-source": e.source, "data-target": e.target }));
  const arrowPaths = [0, 1, 2, 3].map(() => svg("path", { class: "arrow" }));
  $("edges").append(...edgePaths, ...arrowPaths);
  function drawEdges() {
    const key = state.edgeValue === "weight" ? "weight" : "grad";
    const largest = edges.reduce((m, e) => Math.max(m, Math.abs(e[key])), 0) || 1;
    const heads = [[], [], [], []], size = arrowSize();
    edges.forEach((e, index) => {
      const width = Math.min(3, Math.floor(4 * Math.abs(e[key]) / largest));
      const { d, arrow } = edgeGeometry(e, size + width);
      edgePaths[index].setAttribute("d", d);
      edgePaths[index].setAttribute("stroke-width", (0.6 + 0.8 * width).toFixed(1));
      heads[width].push(arrow);
    });
    // One filled path per width class holds every arrowhead of the class: thousands of edges, four elements.
    arrowPaths.forEach((path, width) => path.setAttribute("d", heads[width].join("")));
  }

  const circles = nodes.map((node, i) => {
    const circle = svg("circle", { class: "unit" + (node.dead ? " dead" : ""), "data-node": node.label,
                                   "data-index": i });
    const tip = svg("title");
    tip.textContent = node.repr;
    circle.append(tip);
    return circle;
  });
  $("nodes").append(...circles);

  function paint() {
    const current = sample();
    const limit = current.delta.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    circles.forEach((circle, i) => {
      const delta = current.delta[i];
      circle.setAttribute("data-delta", String(delta));
      circle.setAttribute("data-revealed", String(isRevealed(i)));
      const { fill, dark } = isRevealed(i) ? colour(delta, limit) : { fill: "#e0e0e0", dark: false };
      circle.setAttribute("fill", fill);
      state.dark[i] = dark;
    });
    $("vmin").textContent = fmt(-limit);
    $("vmax").textContent = fmt(limit);
    $("summary").textContent = `${data.loss_name}: E = ${fmt(data.loss)} over ${data.batch} sample` +
      `${data.batch === 1 ? "" : "s"}; sample ${current.sample}: E_n = ${fmt(current.loss)}`;
    placeTexts();
  }

  // ---- texts: placed as graphbp.drawing declutters, never over a unit they do not belong to --------
  // Each text is tried at its places in turn and kept at the first where its box stays in the pane, clear of
  // every text kept before it and of every unit but its own; the pinned unit's texts are placed first.
  const measure = document.createElement("canvas").getContext("2d");
  function textWidth(text, size) { measure.font = `${size}px ${FONT}`; return measure.measureText(text).width; }

  // A placer for texts in a width × height pane of units of radius r at `centres`: place() keeps a text at the
  // first of its places where it fits, `texts` are the elements kept. Units and kept boxes are filed by grid
  // cell, so that each test looks at its neighbourhood only.
  function textPlacer(width, height, r, centres) {
    const cell = Math.max(48, 2 * r + 2 * GAP);
    const grid = new Map(), kept = new Map();
    const cellsOf = (x0, y0, x1, y1, visit) => {
      for (let gx = Math.floor(x0 / cell); gx <= Math.floor(x1 / cell); gx++)
        for (let gy = Math.floor(y0 / cell); gy <= Math.floor(y1 / cell); gy++) visit(`${gx},${gy}`);
    };
    centres.forEach(([x, y], i) => {
      if (x < -r || y < -r || x > width + r || y > height + r) return;
      const key = `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
      if (!grid.has(key)) grid.set(key, []);
      grid.get(key).push(i);
    });
    const coversUnit = (b, owners) => {
      let hit = false;
      cellsOf(b.x0 - r, b.y0 - r, b.x1 + r, b.y1 + r, key => {
        for (const i of grid.get(key) || []) {
          if (hit || owners.includes(i)) continue;
          const [x, y] = centres[i];
          hit = Math.hypot(Math.max(b.x0, Math.min(x, b.x1)) - x, Math.max(b.y0, Math.min(y, b.y1)) - y) < r + GAP;
        }
      });
      return hit;
    };
    const coversText = b => {
      let hit = false;
      cellsOf(b.x0, b.y0, b.x1, b.y1, key => {
        for (const o of kept.get(key) || []) hit = hit || (b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1);
      });
      return hit;
    };
    const texts = [];
    // Keeps `text` at the first of `places` ([x, y] centres) where it fits; `owners` are the units it may cover.
    function place(text, size, places, owners, attributes) {
      if (size < MIN_PX) return false;
      const w = textWidth(text, size) + 2 * GAP, h = 1.3 * size + 2 * GAP;
      for (const [x, y] of places) {
        const b = { x0: x - w / 2, y0: y - h / 2, x1: x + w / 2, y1: y + h / 2 };
        if (b.x0 < 0 || b.y0 < 0 || b.x1 > width || b.y1 > height || coversText(b) || coversUnit(b, owners)) continue;
        cellsOf(b.x0, b.y0, b.x1, b.y1, key => { if (!kept.has(key)) kept.set(key, []); kept.get(key).push(b); });
        const element = svg("text", { x: x.toFixed(1), y: y.toFixed(1), "font-size": size,
                                      "data-owner": owners.join(" "), ...attributes });
        element.textContent = text;
        texts.push(element);
        return true;
      }
      return false;
    }
    return { place, texts };
  }

  function placeTexts() {
    const box = graph.getBoundingClientRect(), width = box.width, height = box.height, r = unitRadius();
    const centres = nodes.map(node => [screenX(node), screenY(node)]);
    const { place, texts } = textPlacer(width, height, r, centres);
    // Right, left, above, below and the diagonals of the circle, then the same a step and two steps farther out.
    const beside = (i, text, size) => {
      const [x, y] = centres[i], w = textWidth(text, size) / 2 + GAP, h = 0.65 * size + GAP, places = [];
      for (const step of [0, 1.2 * size, 2.4 * size]) {
        const dx = r + GAP + w + step, dy = r + GAP + h + step;
        places.push([x + dx, y], [x - dx, y], [x, y - dy], [x, y + dy],
                    [x + dx, y - dy], [x - dx, y - dy], [x + dx, y + dy], [x - dx, y + dy]);
      }
      return places;
    };
    const onScreen = i => centres[i][0] >= 0 && centres[i][0] <= width && centres[i][1] >= 0 && centres[i][1] <= height;
    function name(i, anyway) {
      if (!onScreen(i)) return;   // a name without its unit would be a riddle
      const text = short(nodes[i].label);
      // Inside the circle, at the largest size that fits it; else beside it when there is room.
      const inside = [NAME_PX, 11, 10, MIN_PX].find(size => textWidth(text, size) <= 2 * r - 4 && 1.2 * size <= 2 * r);
      if (inside && place(text, inside, [centres[i]], [i], { class: "name" + (state.dark[i] ? " dark" : "") })) return;
      if (anyway || nodes.length <= data.max_labelled || r >= 8) {
        place(text, BESIDE_PX, beside(i, text, BESIDE_PX), [i], { class: "name beside" });
      }
    }
    function value(i) {
      if (!onScreen(i)) return;
      const current = sample();
      const shown = state.quantity !== "delta" || isRevealed(i) ? fmt(current[state.quantity][i]) : "?";
      const text = `${symbol[state.quantity]}=${shown}`, [right, left, above, below] = beside(i, text, VALUE_PX);
      place(text, VALUE_PX, [below, above, right, left], [i], { class: "value" });
    }
    const j = state.selected, first = [];
    if (j !== null) first.push(j, ...successorEdges[j].map(e => edges[e].target));
    const inFirst = new Set(first);
    first.forEach(i => name(i, true));
    if (j !== null && successorEdges[j].length <= 12) {
      const current = sample();
      for (const e of successorEdges[j]) {
        const { target: k, weight: w } = edges[e];
        if (!isRevealed(k)) continue;
        place(`${paren(w)}·${paren(current.delta[k])} = ${fmt(w * current.delta[k])}`, TERM_PX,
              edges[e].label_at.map(p => [screenX(p), screenY(p)]), [], { class: "term", "data-edge": `${j} ${k}` });
      }
    }
    const many = nodes.length > data.max_labelled && r < 10;   // values of every unit only once zoomed in
    nodes.forEach((node, i) => { if (!inFirst.has(i)) name(i, false); });
    first.forEach(value);
    if (!many) nodes.forEach((node, i) => { if (!inFirst.has(i)) value(i); });
    $("labels").replaceChildren(...texts);
  }

  // ---- highlight and eq. 5.56 ---------------------------------------------------------------------
  function drawHighlight() {
    const highlight = $("highlight"), i = state.selected;
    highlight.replaceChildren();
    if (i === null) return;
    const heads = [], size = arrowSize() + 3;
    for (const e of successorEdges[i]) {
      const { d, arrow } = edgeGeometry(edges[e], size);
      highlight.append(svg("path", { d, class: "hl-edge", "data-source": i, "data-target": edges[e].target }));
      heads.push(arrow);
    }
    highlight.append(svg("path", { d: heads.join(""), class: "hl-arrow" }));
  }

  function select(i, pin) {
    state.selected = i;
    state.pinned = pin && i !== null;
    graph.classList.toggle("focus", i !== null);
    const mark = (circle, kind) => { circle.classList.add(kind); circle.setAttribute("data-highlight", kind); };
    circles.forEach(c => { c.classList.remove("selected", "successor"); c.removeAttribute("data-highlight"); });
    drawHighlight();
    placeTexts();
    if (i === null) { explainNothing(); return; }
    mark(circles[i], "selected");
    for (const e of successorEdges[i]) mark(circles[edges[e].target], "successor");
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
    const terms = successorEdges[i].map(e => [edges[e].target, edges[e].weight, current.delta[edges[e].target]]);
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
            const { source: p, weight: w, grad } = edges[e];
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
    // Zoomed in until its circle is a comfortable click, and centred.
    state.zoom = Math.max(state.zoom, 14 / (data.radius * state.base));
    const box = graph.getBoundingClientRect();
    state.tx = box.width / 2 - state.zoom * state.fx * refX(nodes[i]);
    state.ty = box.height / 2 - state.zoom * state.fy * refY(nodes[i]);
    render();
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
  function render() {
    const r = unitRadius().toFixed(2);
    circles.forEach((circle, i) => {
      circle.setAttribute("cx", screenX(nodes[i]).toFixed(1));
      circle.setAttribute("cy", screenY(nodes[i]).toFixed(1));
      circle.setAttribute("r", r);
    });
    drawEdges();
    drawHighlight();
    placeTexts();
  }
  let pending = null;   // pan and zoom redraw once per frame
  const renderSoon = () => { if (pending === null) pending = requestAnimationFrame(() => { pending = null; render(); }); };
  function fit() {
    const box = graph.getBoundingClientRect(), width = box.width || 800, height = box.height || 500;
    const xs = nodes.map(refX), ys = nodes.map(refY), margin = data.radius + data.margin;   // texts beside
    const left = Math.min(...xs) - margin, right = Math.max(...xs) + margin;
    const top = Math.min(...ys) - margin, bottom = Math.max(...ys) + margin;
    const kx = width / (right - left), ky = height / (bottom - top);
    // The lesser stretch scales the circles; the other direction stretches to fill the pane (up to 3 times as
    // much): every distance grows at least as much as the circles, so the edges stay as clear of them as routed.
    state.base = Math.min(kx, ky, 2);
    state.fx = Math.min(kx, 3 * state.base);
    state.fy = Math.min(ky, 3 * state.base);
    state.zoom = 1;
    state.tx = (width - state.fx * (left + right)) / 2;
    state.ty = (height - state.fy * (top + bottom)) / 2;
    render();
  }
  $("fit").addEventListener("click", fit);
  graph.addEventListener("wheel", event => {
    event.preventDefault();
    const box = graph.getBoundingClientRect(), mx = event.clientX - box.left, my = event.clientY - box.top;
    const factor = Math.exp(-event.deltaY * 0.0015);
    state.tx = mx - (mx - state.tx) * factor;
    state.ty = my - (my - state.ty) * factor;
    state.zoom *= factor;
    renderSoon();
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
    renderSoon();
  });
  window.addEventListener("pointerup", () => {
    if (drag && !drag.moved && state.revealed === null) select(null, false);
    drag = null;
    graph.classList.remove("panning");
  });
  window.addEventListener("resize", fit);

  graph.classList.toggle("dense", edges.length > 1000);
  fit();
  paint();
  // page.html#node=NAME opens with that unit pinned (a link to one unit's eq. 5.56).
  const linked = location.hash.startsWith("#node=") ? decodeURIComponent(location.hash.slice(6)) : null;
  const start = nodes.findIndex(node => node.label === linked || node.repr === linked);
  if (start >= 0) select(start, true); else explainNothing();
  document.body.setAttribute("data-ready", "true");
})();
