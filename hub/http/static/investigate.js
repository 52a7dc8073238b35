// The investigator's page: draws a subject's network from /graphql with cytoscape.js, colours
// sanctioned and exposed nodes, and expands a node when it is clicked. Every request carries the
// investigator's own token, so the page sees exactly what the API lets that token see.
"use strict";

(() => {
  const KINDS = {
    Subject: "主体", Person: "自然人", Phone: "电话", Address: "地址", Email: "邮箱",
    Project: "项目", Licence: "许可", Sanction: "惩戒",
  };
  const LINKS = {
    LEGAL_REPRESENTATIVE_OF: "法定代表人", SHAREHOLDER_OF: "股东", OFFICER_OF: "高管",
    CONTROLS: "实际控制", BRANCH_OF: "分支机构", SUCCEEDED_BY: "承继", PARTICIPATES_IN: "参与",
    HOLDS: "持有", HAS_PHONE: "电话", HAS_ADDRESS: "地址", HAS_EMAIL: "邮箱", SANCTIONED: "惩戒",
  };
  const LISTINGS = { SERIOUS_DISHONESTY: "严重失信主体名单", ABNORMAL_OPERATION: "经营异常名录" };
  const STATUSES = {
    Subject: { ACTIVE: "存续", REVOKED: "吊销", CANCELLED: "注销" },
    Sanction: { ACTIVE: "执行中", ENDED: "已届满", REPAIRED: "已修复" },
  };
  const ERRORS = {
    UNAUTHENTICATED: "令牌无效或已过期，请重新获取令牌。",
    FORBIDDEN: "无权访问：此页面仅供调查人员使用。",
    NOT_FOUND: "未找到该主体，或您无权查看。",
    INVALID_CREDIT_CODE: "统一社会信用代码有误，请核对后重试。",
    LIMIT_EXCEEDED: "超出查询限制，请缩小范围后重试。",
    UNAVAILABLE: "服务暂时不可用，请稍后重试。",
    BAD_USER_INPUT: "输入有误。",
  };
  const VALUE_KINDS = new Set(["Phone", "Address", "Email"]);
  // Where network(node: …) may start; a sanction is a leaf, shown but not expanded.
  const EXPANDABLE = new Set(["Subject", "Person", "Licence", "Project", "Phone", "Address", "Email"]);
  const NETWORK = `query($c: String, $n: String, $d: Int) {
    network(creditCode: $c, node: $n, depth: $d, limit: 300) {
      nodes { id kind key label status grade sanctioned hub }
      edges { kind source target share role since }
      truncated capped
    }
  }`;
  const EXPOSURE = `query($c: String!) {
    exposure(creditCode: $c, depth: 3) {
      creditCode name listing score phoenix phoenixReason paths { nodes { kind key } }
    }
  }`;
  const STYLE = [
    { selector: "node", style: {
      label: "data(label)", "font-family": getComputedStyle(document.body).fontFamily, "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
      "text-wrap": "ellipsis", "text-max-width": 120, width: 22, height: 22,
      "background-color": "#90a4ae", color: "#1f2933" } },
    { selector: "node.subject", style: {
      shape: "round-rectangle", width: 30, height: 22, "background-color": "#1e6fb8" } },
    { selector: "node.person", style: { shape: "ellipse", "background-color": "#2e7d32" } },
    { selector: "node.value", style: { shape: "diamond", width: 16, height: 16 } },
    { selector: "node.other", style: { shape: "hexagon", "background-color": "#7b1fa2" } },
    { selector: "node.hub", style: {
      "background-color": "#ffffff", "border-width": 2, "border-style": "dashed",
      "border-color": "#607d8b" } },
    { selector: "node.exposed", style: { "background-color": "#ef8a00" } },
    { selector: "node.sanctioned", style: { "background-color": "#c62828" } },
    { selector: "node.expanded", style: { "border-width": 2, "border-color": "#0b4f6c" } },
    { selector: "node.root", style: {
      width: 40, height: 30, "border-width": 3, "border-color": "#0b4f6c", "font-weight": "bold" } },
    { selector: "node:selected", style: { "overlay-color": "#0b4f6c", "overlay-opacity": 0.2 } },
    { selector: "edge", style: {
      width: 1.5, "line-color": "#bcccdc", "curve-style": "bezier",
      "target-arrow-shape": "triangle", "target-arrow-color": "#bcccdc",
      label: "data(label)", "font-size": 8, color: "#52606d", "text-rotation": "autorotate",
      "font-family": getComputedStyle(document.body).fontFamily,
      "text-background-color": "#ffffff", "text-background-opacity": 0.8 } },
    { selector: "edge.exposure", style: {
      width: 2.5, "line-color": "#ef8a00", "target-arrow-color": "#ef8a00" } },
  ];

  const $ = (id) => document.getElementById(id);
  const status = $("status");
  let answered = 0; // requests finished, in status.dataset.answered: what tests wait for
  const state = { expanded: new Set(), exposedNodes: new Set(), exposureLinks: new Set(),
                  exposures: new Map() };
  const cy = cytoscape({ container: $("graph"), style: STYLE, wheelSensitivity: 0.3,
                         minZoom: 0.2, maxZoom: 3 });
  window.hubGraph = cy; // for the operator's console and the browser test

  class ApiError extends Error {
    constructor(code, message) { super(message); this.code = code; }
  }

  function say(text, failed = false) {
    status.textContent = text;
    status.classList.toggle("error", failed);
  }

  function token() { return $("token").value.trim().replace(/^Bearer\s+/i, ""); }

  async function gql(query, variables) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify({ query, variables }),
    });
    let body;
    try { body = await response.json(); } catch {
      throw new ApiError("HTTP", `服务器返回 HTTP ${response.status}`);
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      throw new ApiError((first.extensions || {}).code || "ERROR", first.message);
    }
    return body.data;
  }

  function explain(error) {
    const known = ERRORS[error.code];
    return known ? `${known}（${error.code}：${error.message}）` : `查询失败：${error.message}`;
  }

  function classesOf(node) {
    const kind = node.kind;
    const classes = [kind === "Subject" ? "subject" : kind === "Person" ? "person"
      : VALUE_KINDS.has(kind) ? "value" : "other"];
    if (node.sanctioned) classes.push("sanctioned");
    if (node.hub) classes.push("hub");
    if (state.exposedNodes.has(node.id) && !node.sanctioned) classes.push("exposed");
    return classes.join(" ");
  }

  function labelOf(node) {
    if (node.kind === "Sanction") return LISTINGS[node.label] || node.label;
    return node.label || node.key;
  }

  function statusOf(kind, status) {
    return (STATUSES[kind] || {})[status] || status || "";
  }

  function edgeLabel(edge) {
    const name = LINKS[edge.kind] || edge.kind;
    return edge.share == null ? name : `${name} ${(edge.share * 100).toFixed(1)}%`;
  }

  function addNetwork(net) {
    let added = 0;
    cy.batch(() => {
      for (const node of net.nodes) {
        if (cy.getElementById(node.id).nonempty()) continue;
        cy.add({ group: "nodes", data: { ...node, label: labelOf(node) },
                 classes: classesOf(node) });
        added += 1;
      }
      for (const edge of net.edges) {
        const id = `${edge.source}|${edge.kind}|${edge.target}`;
        if (cy.getElementById(id).nonempty()) continue;
        cy.add({ group: "edges", data: { ...edge, id, label: edgeLabel(edge) } });
      }
    });
    return added;
  }

  function markExposure(rootId, found) {
    if (!found.length) return;
    state.exposures.set(rootId, found);
    state.exposedNodes.add(rootId);
    for (const hit of found) {
      for (const path of hit.paths) {
        const ids = path.nodes.map((n) => `${n.kind}:${n.key}`);
        ids.forEach((id) => state.exposedNodes.add(id));
        for (let i = 1; i < ids.length; i += 1) {
          state.exposureLinks.add(`${ids[i - 1]}|${ids[i]}`);
          state.exposureLinks.add(`${ids[i]}|${ids[i - 1]}`);
        }
      }
    }
    recolour();
  }

  function recolour() {
    cy.nodes().forEach((n) => {
      n.toggleClass("exposed", state.exposedNodes.has(n.id()) && !n.data("sanctioned"));
    });
    cy.edges().forEach((e) => {
      e.toggleClass("exposure", state.exposureLinks.has(`${e.data("source")}|${e.data("target")}`));
    });
  }

  function layout(fresh) {
    cy.layout({ name: "cose", animate: false, randomize: fresh, fit: true, padding: 30,
                nodeDimensionsIncludeLabels: true, idealEdgeLength: () => 70 }).run();
  }

  function stateOf(node) {
    if (node.data("sanctioned")) return ["sanctioned", "严重失信"];
    if (node.hasClass("exposed")) return ["exposed", "关联风险"];
    if (node.data("hub")) return ["hub", "高度共享"];
    return ["", statusOf(node.data("kind"), node.data("status"))];
  }

  function renderTable() {
    const rank = (n) => (n.data("sanctioned") ? 0 : n.hasClass("exposed") ? 1
      : n.data("kind") === "Subject" ? 2 : n.data("kind") === "Person" ? 3 : 4);
    const rows = cy.nodes().sort((a, b) => rank(a) - rank(b)
      || String(a.data("label")).localeCompare(String(b.data("label")), "zh-CN"));
    const body = $("nodes").tBodies[0];
    body.replaceChildren(...rows.map((n) => {
      const [cls, text] = stateOf(n);
      const tr = document.createElement("tr");
      tr.dataset.id = n.id();
      if (cls) tr.className = cls;
      for (const value of [n.data("label"), KINDS[n.data("kind")] || n.data("kind"), text]) {
        const td = document.createElement("td");
        td.textContent = value;
        tr.append(td);
      }
      const td = document.createElement("td");
      if (!n.data("hub") && EXPANDABLE.has(n.data("kind")) && !state.expanded.has(n.id())) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = "展开";
        button.addEventListener("click", () => expand(n.id()));
        td.append(button);
      }
      tr.append(td);
      return tr;
    }));
  }

  function showDetail(node) {
    const rows = [
      ["名称", node.data("label")], ["类型", KINDS[node.data("kind")] || node.data("kind")],
      [node.data("kind") === "Subject" ? "信用代码" : "标识", node.data("key")],
      ["状态", statusOf(node.data("kind"), node.data("status"))], ["信用等级", node.data("grade")],
      ["惩戒", node.data("sanctioned") ? "严重失信主体，惩戒中" : null],
      ["共享", node.data("hub") ? "被大量主体共用，不展开" : null],
    ];
    for (const hit of state.exposures.get(node.id()) || []) {
      const listing = LISTINGS[hit.listing] || hit.listing;
      rows.push(["关联失信", `${hit.name}（${listing}，关联度 ${hit.score.toFixed(2)}）`]);
      if (hit.phoenix) rows.push(["疑似“换壳”", hit.phoenixReason || "是"]);
    }
    const dl = document.createElement("dl");
    for (const [term, value] of rows) {
      if (value == null || value === "") continue;
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = term;
      dd.textContent = value;
      dl.append(dt, dd);
    }
    $("detail").replaceChildren(dl);
  }

  function summary(prefix) {
    const sanctioned = cy.nodes(".sanctioned").length;
    const exposed = cy.nodes(".exposed").length;
    return `${prefix}：${cy.nodes().length} 个节点，${cy.edges().length} 条关系；` +
      `严重失信主体 ${sanctioned} 个，关联风险节点 ${exposed} 个。`;
  }

  async function withExposure(kind, key, networkCall) {
    return Promise.all([
      networkCall,
      kind === "Subject" ? gql(EXPOSURE, { c: key }).then((d) => d.exposure) : [],
    ]);
  }

  async function load(code, depth) {
    status.dataset.busy = "true";
    say("正在查询……");
    try {
      const [data, found] = await withExposure("Subject", code,
        gql(NETWORK, { c: code, d: depth }));
      cy.elements().remove();
      state.expanded = new Set();
      state.exposedNodes = new Set();
      state.exposureLinks = new Set();
      state.exposures = new Map();
      const net = data.network;
      addNetwork(net);
      const root = net.nodes[0].id;
      cy.getElementById(root).addClass("root expanded");
      state.expanded.add(root);
      markExposure(root, found);
      layout(true);
      renderTable();
      showDetail(cy.getElementById(root));
      say(summary("已加载") + (net.truncated ? " 节点数已达上限，部分关系未显示。" : ""));
    } catch (error) {
      cy.elements().remove();
      renderTable();
      say(explain(error), true);
    } finally {
      status.dataset.busy = "false";
      answered += 1;
      status.dataset.answered = String(answered);
    }
  }

  async function expand(id) {
    const node = cy.getElementById(id);
    if (node.empty()) return;
    showDetail(node);
    if (node.data("hub")) { say("该标识被大量主体共用，不展开。"); return; }
    if (!EXPANDABLE.has(node.data("kind")) || state.expanded.has(id)) return;
    status.dataset.busy = "true";
    say(`正在展开“${node.data("label")}”……`);
    try {
      const [data, found] = await withExposure(node.data("kind"), node.data("key"),
        gql(NETWORK, { n: id, d: 1 }));
      const added = addNetwork(data.network);
      state.expanded.add(id);
      node.addClass("expanded");
      markExposure(id, found);
      layout(false);
      renderTable();
      showDetail(node);
      say(summary(`已展开“${node.data("label")}”，新增 ${added} 个节点`));
    } catch (error) {
      say(explain(error), true);
    } finally {
      status.dataset.busy = "false";
      answered += 1;
      status.dataset.answered = String(answered);
    }
  }

  cy.on("tap", "node", (event) => expand(event.target.id()));

  $("token").addEventListener("change", () => sessionStorage.setItem("hub.token", token()));
  $("query").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("hub.token", token());
    load($("code").value.trim(), Number($("depth").value));
  });

  // A link may carry the code (?code=…) and the token (#token=…, never sent to the server);
  // the token is moved into this tab's storage and out of the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem("hub.token", fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  $("token").value = sessionStorage.getItem("hub.token") || "";
  const code = new URLSearchParams(location.search).get("code");
  if (code) {
    $("code").value = code;
    if (token()) load(code, Number($("depth").value));
  }
})();
