// Cairn lineage graph: a layered drawing in plain SVG, no library. Columns are hops from the
// root (upstream to the left, downstream to the right); inside a column, nodes are ordered by
// the mean position of their neighbours (a few barycentre sweeps), which keeps crossings low
// enough to read a few hundred nodes. Every node is a link, so Tab and Enter follow lineage.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  // Below READABLE the 13 px labels get too small to read: the first view stops there and centres
  // the root; "Fit" shows everything however small.
  var NODE_W = 210, NODE_H = 30, ROW_GAP = 10, COL_GAP = 90, PAD = 24, READABLE = 0.8;
  var KINDS = { table: "table", column: "column", dashboard: "dashboard", chart: "chart", job: "job",
    dashboard_group: "group", job_group: "group", query: "query", event: "event", dataset: "dataset",
    model: "model", document: "doc", glossary: "term", collection: "coll", schema: "schema", database: "db" };

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function shorten(text, max) {
    text = text || "Untitled";
    return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
  }

  // Column of each node, then an order inside each column that follows its neighbours.
  function layout(graph) {
    var byId = {}, columns = {}, up = {}, down = {};
    graph.nodes.forEach(function (n) {
      byId[n.id] = n;
      (columns[n.depth] = columns[n.depth] || []).push(n);
      up[n.id] = [];
      down[n.id] = [];
    });
    graph.edges.forEach(function (e) {
      if (byId[e.upstream_id] && byId[e.downstream_id]) {
        down[e.upstream_id].push(e.downstream_id);
        up[e.downstream_id].push(e.upstream_id);
      }
    });
    var depths = Object.keys(columns).map(Number).sort(function (a, b) { return a - b; });
    var rank = {};
    depths.forEach(function (d) {
      columns[d].sort(function (a, b) { return (a.title || "").localeCompare(b.title || ""); });
      columns[d].forEach(function (n, i) { rank[n.id] = i; });
    });
    function sweep(order, neighbours) {
      order.forEach(function (d) {
        var col = columns[d];
        col.forEach(function (n) {
          var near = neighbours[n.id].filter(function (id) { return byId[id].depth !== d; });
          n._bary = near.length
            ? near.reduce(function (s, id) { return s + rank[id]; }, 0) / near.length
            : rank[n.id];
        });
        col.sort(function (a, b) { return a._bary - b._bary; });
        col.forEach(function (n, i) { rank[n.id] = i; });
      });
    }
    var rightward = depths.slice(), leftward = depths.slice().reverse();
    for (var i = 0; i < 4; i++) {
      sweep(rightward, up);
      sweep(leftward, down);
    }
    var tallest = Math.max.apply(null, depths.map(function (d) { return columns[d].length; }));
    var height = tallest * (NODE_H + ROW_GAP);
    depths.forEach(function (d, ci) {
      var col = columns[d];
      var offset = (height - col.length * (NODE_H + ROW_GAP)) / 2;  // centre short columns
      col.forEach(function (n, i) {
        n._x = PAD + ci * (NODE_W + COL_GAP);
        n._y = PAD + offset + i * (NODE_H + ROW_GAP);
      });
    });
    return {
      byId: byId,
      width: PAD * 2 + depths.length * NODE_W + Math.max(0, depths.length - 1) * COL_GAP,
      height: PAD * 2 + height,
    };
  }

  function edgePath(a, b) {
    var x1 = a._x + NODE_W, y1 = a._y + NODE_H / 2, x2 = b._x, y2 = b._y + NODE_H / 2;
    if (a._x === b._x) {  // same column: a bow on the right-hand side, into b's right edge
      var bow = x1 + 26 + Math.min(60, Math.abs(y2 - y1) / 4);
      return "M" + x1 + "," + y1 + " C" + bow + "," + y1 + " " + bow + "," + y2 + " " + (x1 + 2) + "," + y2;
    }
    if (x2 < x1) {  // a cycle back to an earlier column: loop around below the boxes
      var below = Math.max(a._y, b._y) + NODE_H + 18;
      return "M" + x1 + "," + y1 + " C" + (x1 + 40) + "," + below + " " + (x2 - 40) + "," + below + " " + x2 + "," + y2;
    }
    var mid = (x1 + x2) / 2;
    return "M" + x1 + "," + y1 + " C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2;
  }

  // A node links to its own lineage page with the same direction, depth and level.
  function nodeUrl(base, id) {
    return base + encodeURIComponent(id) + location.search;
  }

  function draw(holder, graph) {
    var svgHost = holder.querySelector(".lineage-canvas");
    svgHost.textContent = "";
    var status = holder.querySelector(".lineage-status");
    if (!graph.nodes.length) {
      status.textContent = "No lineage recorded for this resource at this level.";
      return;
    }
    var placed = layout(graph);
    var svg = el("svg", {
      role: "group",
      "aria-label": "Lineage graph, " + graph.nodes.length + " nodes and " + graph.edges.length + " edges",
      width: "100%",
      height: "100%",
    }, svgHost);
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }, marker);
    var world = el("g", { class: "world" }, svg);
    var edgeLayer = el("g", { class: "edges" }, world);
    var nodeLayer = el("g", { class: "nodes" }, world);
    var edgesOf = {};
    graph.edges.forEach(function (e) {
      var a = placed.byId[e.upstream_id], b = placed.byId[e.downstream_id];
      if (!a || !b) return;
      var path = el("path", { d: edgePath(a, b), class: "edge origin-" + e.origin, "marker-end": "url(#arrow)" }, edgeLayer);
      el("title", {}, path).textContent = (a.title || "") + " \u2192 " + (b.title || "") + " (" + e.origin + ")";
      path._ends = [a.id, b.id];
      (edgesOf[a.id] = edgesOf[a.id] || []).push(path);
      (edgesOf[b.id] = edgesOf[b.id] || []).push(path);
    });
    var template = holder.dataset.nodeBase;
    // Tab order follows the drawing: column by column, top to bottom.
    var ordered = graph.nodes.slice().sort(function (a, b) { return a._x - b._x || a._y - b._y; });
    var linkOf = {};
    ordered.forEach(function (n) {
      var link = el("a", {
        href: nodeUrl(template, n.id),
        class: "node type-" + n.entity_type + (n.id === graph.root ? " root" : ""),
        "data-id": n.id,
        "aria-label": (n.title || "Untitled") + ", " + n.entity_type.replace("_", " ") +
          (n.depth < 0 ? ", " + -n.depth + " upstream" : n.depth > 0 ? ", " + n.depth + " downstream" : ", this resource"),
      }, nodeLayer);
      linkOf[n.id] = link;
      el("rect", { x: n._x, y: n._y, width: NODE_W, height: NODE_H, rx: 5 }, link);
      var label = el("text", { x: n._x + 10, y: n._y + NODE_H / 2 + 5 }, link);
      label.textContent = shorten(n.title, 24);
      var kind = el("text", { x: n._x + NODE_W - 8, y: n._y + NODE_H / 2 + 4, class: "kind", "text-anchor": "end" }, link);
      kind.textContent = KINDS[n.entity_type] || n.entity_type;
      el("title", {}, link).textContent = n.title || "Untitled";
      function light(on) {
        svg.classList.toggle("focusing", on);
        link.classList.toggle("lit", on);
        (edgesOf[n.id] || []).forEach(function (p) {
          p.classList.toggle("lit", on);
          p._ends.forEach(function (id) {
            var other = nodeLayer.querySelector('[data-id="' + id + '"]');
            if (other) other.classList.toggle("near", on);
          });
        });
      }
      link.addEventListener("mouseenter", function () { light(true); });
      link.addEventListener("mouseleave", function () { light(false); });
      link.addEventListener("focus", function () { light(true); ensureVisible(n); });
      link.addEventListener("blur", function () { light(false); });
    });

    // Arrow keys: up/down within a column, left/right to the nearest node of the next column.
    nodeLayer.addEventListener("keydown", function (evt) {
      var from = evt.target.closest && evt.target.closest("a.node");
      if (!from || ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].indexOf(evt.key) === -1) return;
      var n = placed.byId[from.dataset.id], best = null, bestCost = Infinity;
      ordered.forEach(function (m) {
        var dx = m._x - n._x, dy = m._y - n._y, cost;
        if (evt.key === "ArrowUp" || evt.key === "ArrowDown") {
          if (dx !== 0 || (evt.key === "ArrowUp" ? dy >= 0 : dy <= 0)) return;
          cost = Math.abs(dy);
        } else {
          if (evt.key === "ArrowLeft" ? dx >= 0 : dx <= 0) return;
          cost = Math.abs(dx) * 10 + Math.abs(dy);
        }
        if (cost < bestCost) { bestCost = cost; best = m; }
      });
      if (best) {
        evt.preventDefault();
        linkOf[best.id].focus();
      }
    });

    // Pan and zoom: a transform on the world group; drag the background, wheel or buttons to zoom.
    var view = { x: 0, y: 0, k: 1 };
    function apply() {
      world.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
    }
    function fit(readable) {
      var box = svgHost.getBoundingClientRect();
      var k = Math.min(box.width / placed.width, box.height / placed.height, 1.2);
      var root = placed.byId[graph.root];
      if (readable && k < READABLE && root) {
        view.k = READABLE;  // too big to show whole at a readable size: start at the root, pan for more
        view.x = box.width / 2 - (root._x + NODE_W / 2) * view.k;
        view.y = box.height / 2 - (root._y + NODE_H / 2) * view.k;
      } else {
        view.k = Math.max(k, 0.15);
        view.x = (box.width - placed.width * view.k) / 2;
        view.y = (box.height - placed.height * view.k) / 2;
      }
      apply();
    }
    function zoom(factor, cx, cy) {
      var k = Math.min(3, Math.max(0.15, view.k * factor));
      view.x = cx - (cx - view.x) * (k / view.k);
      view.y = cy - (cy - view.y) * (k / view.k);
      view.k = k;
      apply();
    }
    function ensureVisible(n) {
      var box = svgHost.getBoundingClientRect();
      var x = n._x * view.k + view.x, y = n._y * view.k + view.y;
      if (x < 0 || y < 0 || x + NODE_W * view.k > box.width || y + NODE_H * view.k > box.height) {
        view.x = box.width / 2 - (n._x + NODE_W / 2) * view.k;
        view.y = box.height / 2 - (n._y + NODE_H / 2) * view.k;
        apply();
      }
    }
    svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      var box = svgHost.getBoundingClientRect();
      zoom(evt.deltaY < 0 ? 1.15 : 1 / 1.15, evt.clientX - box.left, evt.clientY - box.top);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (evt) {
      if (evt.target.closest && evt.target.closest("a")) return;
      drag = { x: evt.clientX - view.x, y: evt.clientY - view.y };
      svg.setPointerCapture(evt.pointerId);
      svg.classList.add("panning");
    });
    svg.addEventListener("pointermove", function (evt) {
      if (!drag) return;
      view.x = evt.clientX - drag.x;
      view.y = evt.clientY - drag.y;
      apply();
    });
    svg.addEventListener("pointerup", function () { drag = null; svg.classList.remove("panning"); });
    holder.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.onclick = function () {
        var box = svgHost.getBoundingClientRect();
        if (button.dataset.zoom === "fit") fit(false);
        else zoom(button.dataset.zoom === "in" ? 1.25 : 0.8, box.width / 2, box.height / 2);
      };
    });
    var finder = holder.querySelector(".lineage-find");
    if (finder) {
      finder.oninput = function () {
        var needle = finder.value.trim().toLowerCase();
        var first = null;
        nodeLayer.querySelectorAll("a.node").forEach(function (a) {
          var hit = needle && a.getAttribute("aria-label").toLowerCase().indexOf(needle) !== -1;
          a.classList.toggle("found", !!hit);
          if (hit && !first) first = a;
        });
        if (first) ensureVisible(placed.byId[first.dataset.id]);
      };
    }
    fit(true);
    // A new window size (a phone turned, a window resized) frames the graph again.
    if (holder._onResize) window.removeEventListener("resize", holder._onResize);
    holder._onResize = function () { fit(true); };
    window.addEventListener("resize", holder._onResize);
    status.textContent = graph.nodes.length + " nodes, " + graph.edges.length + " edges" +
      (graph.truncated ? " (cut at the node limit: lower the depth to see all of it)" : "") + ".";
  }

  // The server-rendered list of nodes, rebuilt for a graph fetched after the page loaded.
  function relist(graph, params) {
    var box = document.querySelector(".lineage-list");
    if (!box) return;
    var summary = box.querySelector("summary");
    box.textContent = "";
    summary.textContent = "Nodes as a list (" + graph.nodes.length + ")";
    box.appendChild(summary);
    var hops = {};
    graph.nodes.forEach(function (n) { (hops[n.depth] = hops[n.depth] || []).push(n); });
    Object.keys(hops).map(Number).sort(function (a, b) { return a - b; }).forEach(function (hop) {
      var h = document.createElement("h2");
      h.className = "sub";
      h.textContent = hop < 0 ? -hop + (hop === -1 ? " hop" : " hops") + " upstream"
        : hop > 0 ? hop + (hop === 1 ? " hop" : " hops") + " downstream" : "This resource";
      var list = document.createElement("ul");
      list.className = "plain";
      hops[hop].forEach(function (n) {
        var item = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/ui/lineage/" + encodeURIComponent(n.id) + "?" + params;
        a.textContent = n.title || "Untitled";
        var page = document.createElement("a");
        page.href = "/ui/resource/" + encodeURIComponent(n.id);
        page.textContent = "page";
        item.appendChild(a);
        item.appendChild(document.createTextNode(" (" + n.entity_type.replace("_", " ") + ") \u00b7 "));
        item.appendChild(page);
        list.appendChild(item);
      });
      box.appendChild(h);
      box.appendChild(list);
    });
  }

  function load(holder) {
    var data = document.getElementById(holder.dataset.graph);
    if (!data) return;
    draw(holder, JSON.parse(data.textContent));
    // Changing a control redraws from the JSON endpoint without reloading the page.
    var form = holder.querySelector("form.lineage-controls");
    if (!form) return;
    // Two quick changes send two requests whose answers may come back in either order: only
    // the latest request may draw, so the graph and the URL always match the controls.
    var latest = 0;
    var pending = null;
    form.addEventListener("change", function () {
      var params = new URLSearchParams(new FormData(form)).toString();
      var mine = ++latest;
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(holder.dataset.graphUrl + "?" + params, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (graph) {
          if (mine !== latest) return;
          draw(holder, graph);
          relist(graph, params);
          history.replaceState(null, "", location.pathname + "?" + params);
        })
        .catch(function (error) {
          if (mine !== latest || (error && error.name === "AbortError")) return;
          holder.querySelector(".lineage-status").textContent = "Could not load the graph; reload the page.";
        });
    });
  }

  function start() {
    document.querySelectorAll("[data-lineage]").forEach(load);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
