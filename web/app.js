/* 问源 (wenyuan) chat page.
 *
 * Plain browser JavaScript, no build step and no dependencies.
 *
 * SECURITY: everything that comes from the user or from the corpus is put on
 * the page as text.  Every node is built with document.createElement and
 * filled through textContent / Text nodes; innerHTML is never used.
 */
"use strict";

(function () {
  // ---------------------------------------------------------------- settings
  const MODES = ["hybrid", "dense", "bm25"];
  const K_MIN = 1;
  const K_MAX = 20;
  const K_DEFAULT = 5;
  const REQUEST_TIMEOUT_MS = 180000;
  const UPLOAD_TIMEOUT_MS = 1800000; // indexing a 5 MB file embeds thousands of passages
  const JOB_POLL_MS = 1000; // a write answered 202 Accepted is followed at its job URL this often
  const BUSY_RETRIES = 5; // 503 index_busy: wait Retry-After seconds and send again, this many times
  const CORPUS_POLL_MS = 2000; // while the server catches up with its corpus folder
  const STORAGE_KEY = "wenyuan.settings";
  const TOKEN_KEY = "wenyuan.token"; // sessionStorage only: the token lives as long as the tab
  const FURNITURE_TITLES = new Set(["报头", "广告", "天气预报"]);

  // ---------------------------------------------------------------- elements
  const $ = (id) => document.getElementById(id);
  const conversation = $("conversation");
  const welcome = $("welcome");
  const form = $("composer");
  const input = $("question-input");
  const sendButton = $("send-button");
  const modeSelect = $("mode-select");
  const kInput = $("k-input");
  const statusBanner = $("status-banner");
  const layout = $("layout");
  const panel = $("context-panel");
  const panelTitle = $("context-title");
  const panelMeta = $("context-meta");
  const panelBody = $("context-body");
  const panelClose = $("context-close");
  const libraryToggle = $("library-toggle");
  const libraryPanel = $("library-panel");
  const libraryClose = $("library-close");
  const librarySummary = $("library-summary");
  const libraryStatus = $("library-status");
  const libraryRefresh = $("library-refresh");
  const uploadDisabled = $("upload-disabled");
  const uploadArea = $("upload-area");
  const uploadInput = $("upload-input");
  const uploadButton = $("upload-button");
  const uploadList = $("upload-list");
  const tokenForm = $("token-form");
  const tokenInput = $("token-input");
  const tokenError = $("token-error");
  const tokenCancel = $("token-cancel");
  const tokenForget = $("token-forget");
  const documentList = $("document-list");
  const corpusState = $("corpus-state");

  // ------------------------------------------------------------------- state
  /** Successful exchanges only: [{role, content}], sent with every question. */
  const history = [];
  let pending = false;
  let composing = false;
  /** Cache of GET /api/documents/{doc} promises, by document name. */
  const documents = new Map();
  /** Element that opened the context panel, to give focus back on close. */
  let panelOpener = null;
  /** Counter so a slow document load never overwrites a newer one. */
  let panelRequest = 0;
  /** Last /api/health answer (its `writes` says whether uploads are possible). */
  let health = null;

  // ------------------------------------------------------------ DOM helpers
  /**
   * Create an element.  `props` may hold className, testid, text, attrs
   * (plain attributes), and on* handlers.  Children are nodes or strings;
   * strings become Text nodes, so they are never parsed as HTML.
   */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "className") node.className = value;
        else if (key === "testid") node.setAttribute("data-testid", value);
        else if (key === "text") node.textContent = String(value);
        else if (key === "attrs") {
          for (const [name, v] of Object.entries(value)) {
            if (v !== undefined && v !== null && v !== false) node.setAttribute(name, String(v));
          }
        } else if (key.startsWith("on") && typeof value === "function") {
          node.addEventListener(key.slice(2).toLowerCase(), value);
        } else node[key] = value;
      }
    }
    appendChildren(node, children);
    return node;
  }

  function appendChildren(node, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) appendChildren(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
  }

  /**
   * Append `text` to `parent` with the code-point range [start, end) wrapped
   * in a <mark>.  Offsets count Unicode code points (as the Python server
   * does), so the text is split with Array.from, never by UTF-16 index.
   * Returns the <mark>, or null when the range is empty or invalid.
   */
  function appendHighlighted(parent, text, range, markProps) {
    const chars = Array.from(String(text || ""));
    let start = -1;
    let end = -1;
    if (Array.isArray(range) && range.length === 2) {
      start = Math.max(0, Math.min(chars.length, Number(range[0]) | 0));
      end = Math.max(0, Math.min(chars.length, Number(range[1]) | 0));
    }
    if (!(end > start)) {
      parent.appendChild(document.createTextNode(chars.join("")));
      return null;
    }
    const before = chars.slice(0, start).join("");
    const inside = chars.slice(start, end).join("");
    const after = chars.slice(end).join("");
    if (before) parent.appendChild(document.createTextNode(before));
    const mark = h("mark", markProps || null, inside);
    parent.appendChild(mark);
    if (after) parent.appendChild(document.createTextNode(after));
    return mark;
  }

  /** The highlighted answer span of a hit, as a string ("" if none). */
  function highlightedText(hit) {
    if (!hit || !Array.isArray(hit.highlight)) return "";
    const chars = Array.from(String(hit.text || ""));
    const [s, e] = hit.highlight;
    if (!(e > s)) return "";
    return chars.slice(Math.max(0, s), Math.min(chars.length, e)).join("");
  }

  function scrollConversationTo(node) {
    // Keep the newest question near the top so its answer is readable
    // from the start rather than scrolled to its last source card.
    if (node && node.scrollIntoView) node.scrollIntoView({ block: "start" });
  }

  function scrollConversationToBottom() {
    conversation.scrollTop = conversation.scrollHeight;
  }

  // -------------------------------------------------------------- settings
  function clampK(value) {
    const n = Math.round(Number(value));
    if (!Number.isFinite(n)) return K_DEFAULT;
    return Math.max(K_MIN, Math.min(K_MAX, n));
  }

  function currentSettings() {
    const mode = MODES.includes(modeSelect.value) ? modeSelect.value : "hybrid";
    return { mode, k: clampK(kInput.value) };
  }

  function loadSettings() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && MODES.includes(saved.mode)) modeSelect.value = saved.mode;
      if (saved && saved.k !== undefined) kInput.value = String(clampK(saved.k));
    } catch (_) {
      /* storage unavailable or corrupt: keep defaults */
    }
  }

  function saveSettings() {
    const settings = currentSettings();
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
    } catch (_) {
      /* private mode etc. */
    }
  }

  modeSelect.addEventListener("change", saveSettings);
  kInput.addEventListener("change", () => {
    kInput.value = String(clampK(kInput.value));
    saveSettings();
  });

  // -------------------------------------------------------------- HTTP
  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Fetch JSON; any failure becomes an ApiError whose message suits a user. */
  async function api(path, options, timeoutMs) {
    return (await request(path, options, timeoutMs)).data;
  }

  /** api() with the response too (a write's 202 carries its job's Location). */
  async function request(path, options, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs || REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(path, {
        ...options,
        signal: controller.signal,
        headers: { Accept: "application/json", ...(options && options.headers) },
      });
    } catch (err) {
      clearTimeout(timer);
      if (err && err.name === "AbortError") {
        throw new ApiError("服务器响应超时，请稍后再试。", 0, "timeout");
      }
      throw new ApiError("无法连接服务器，请检查网络或稍后再试。", 0, "network");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const error = data && data.error;
      if (error && typeof error.message === "string" && error.message) {
        const failure = new ApiError(error.message, error.status || response.status, error.code || "error");
        failure.retryAfter = Number(response.headers.get("Retry-After")) || 0;
        throw failure;
      }
      throw new ApiError(`服务器出错（HTTP ${response.status}），请稍后再试。`, response.status, "http");
    }
    if (data === null || typeof data !== "object") {
      throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
    }
    return { data, response };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * POST /api/chat asking for server-sent events (Accept: text/event-stream):
   * `delta` events carry pieces of the answer as each is ready (a quoted line,
   * or a generated sentence once it has been checked against its sources);
   * `answer` carries the whole answer object. onText gets the text so far.
   */
  async function chatStream(body, onText) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      let response;
      try {
        response = await fetch("/api/chat", {
          method: "POST",
          signal: controller.signal,
          headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      } catch (err) {
        if (err && err.name === "AbortError") throw new ApiError("服务器响应超时，请稍后再试。", 0, "timeout");
        throw new ApiError("无法连接服务器，请检查网络或稍后再试。", 0, "network");
      }
      if (!response.ok) {
        let data = null;
        try {
          data = await response.json();
        } catch (_) {
          data = null;
        }
        const error = data && data.error;
        if (error && typeof error.message === "string" && error.message) {
          throw new ApiError(error.message, error.status || response.status, error.code || "error");
        }
        throw new ApiError(`服务器出错（HTTP ${response.status}），请稍后再试。`, response.status, "http");
      }
      let text = "";
      let final = null;
      const handle = (block) => {
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (!data.length) return;
        let payload;
        try {
          payload = JSON.parse(data.join("\n"));
        } catch (_) {
          throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
        }
        if (name === "delta" && payload && typeof payload.text === "string") {
          text += payload.text;
          onText(text);
        } else if (name === "answer" && payload && typeof payload === "object") {
          final = payload;
        } else if (name === "error") {
          const error = (payload && payload.error) || {};
          throw new ApiError(String(error.message || "服务器出错，请稍后再试。"), error.status || 500, error.code || "error");
        }
      };
      const decoder = new TextDecoder();
      let buffer = "";
      const consume = (chunk, done) => {
        buffer += chunk.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
        if (done && buffer.trim()) handle(buffer);
      };
      try {
        if (response.body && response.body.getReader) {
          const reader = response.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            consume(decoder.decode(value, { stream: true }), false);
          }
          consume(decoder.decode(), true);
        } else {
          consume(await response.text(), true);
        }
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (err && err.name === "AbortError") throw new ApiError("服务器响应超时，请稍后再试。", 0, "timeout");
        throw new ApiError("连接中断，请稍后再试。", 0, "network");
      }
      if (!final) throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
      return final;
    } finally {
      clearTimeout(timer);
    }
  }

  // ------------------------------------------------------------ messages
  function hideWelcome() {
    if (welcome && welcome.parentNode) welcome.remove();
  }

  function addUserMessage(text) {
    hideWelcome();
    const bubble = h(
      "div",
      { className: "message message-user", testid: "message-user" },
      h("div", { className: "bubble bubble-user", text })
    );
    conversation.appendChild(bubble);
    return bubble;
  }

  function addThinking() {
    const node = h(
      "div",
      {
        className: "message message-thinking",
        testid: "thinking",
        attrs: { role: "status" },
      },
      h(
        "div",
        { className: "bubble bubble-answer bubble-thinking" },
        h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
        h("span", { text: "正在查找资料…" })
      )
    );
    conversation.appendChild(node);
    scrollConversationToBottom();
    return node;
  }

  /** The answer as it arrives, plain text; replaced by the full answer when it is complete. */
  function addStreaming() {
    const text = h("p", { className: "answer-text", testid: "streaming-text" });
    const node = h(
      "div",
      { className: "message message-streaming", testid: "message-streaming", attrs: { "aria-busy": "true" } },
      h("div", { className: "bubble bubble-answer is-streaming" }, text)
    );
    conversation.appendChild(node);
    return { node, text };
  }

  function addError(message) {
    const node = h(
      "div",
      { className: "message message-error", testid: "error-message", attrs: { role: "alert" } },
      h(
        "div",
        { className: "bubble bubble-error" },
        h("strong", { className: "error-title", text: "出错了" }),
        h("p", { className: "error-text", text: message })
      )
    );
    conversation.appendChild(node);
    return node;
  }

  function sameText(a, b) {
    const norm = (s) => String(s || "").replace(/\s+/g, "").replace(/[?？。.!！]+$/u, "");
    return norm(a) === norm(b);
  }

  /** Hits cited by the answer, in citation order, then the rest. */
  function pairCitations(data) {
    const citations = Array.isArray(data.citations) ? data.citations : [];
    const hits = Array.isArray(data.hits) ? data.hits : [];
    const used = new Set();
    const cited = citations.map((citation, i) => {
      let index = hits.findIndex(
        (hit, j) =>
          !used.has(j) &&
          hit.citation &&
          hit.citation.doc === citation.doc &&
          hit.citation.start === citation.start
      );
      if (index >= 0) used.add(index);
      return { number: i + 1, citation, hit: index >= 0 ? hits[index] : null };
    });
    const others = hits
      .map((hit, j) => ({ hit, j }))
      .filter(({ j }) => !used.has(j))
      .map(({ hit }) => ({ number: null, citation: hit.citation, hit }));
    return { cited, others };
  }

  function addAnswer(data, asked) {
    const abstained = Boolean(data.abstained);
    const { cited, others } = pairCitations(data);
    const cards = new Map(); // citation number -> card element

    const bubble = h("div", {
      className: "bubble bubble-answer" + (abstained ? " is-abstained" : ""),
    });

    if (data.question && !sameText(data.question, asked)) {
      bubble.appendChild(
        h(
          "p",
          { className: "resolved-question", testid: "resolved-question" },
          h("span", { className: "resolved-label", text: "检索问题" }),
          h("span", { className: "resolved-text", text: data.question })
        )
      );
    }

    const note = generationNote(data);
    if (note) bubble.appendChild(note);

    // Answer text with [n] markers turned into buttons.
    const answer = h("p", { className: "answer-text", testid: "answer-text" });
    const text = String(data.answer || "");
    const markerRe = /\[(\d{1,3})\]/g;
    let last = 0;
    let match;
    while ((match = markerRe.exec(text)) !== null) {
      const n = Number(match[1]);
      const entry = cited[n - 1];
      if (!entry) continue; // not a real citation: leave as text
      if (match.index > last) answer.appendChild(document.createTextNode(text.slice(last, match.index)));
      const marker = h("button", {
        type: "button",
        className: "citation-marker",
        testid: "citation-marker",
        text: String(n),
        title: entry.citation ? `${entry.citation.title || entry.citation.doc} · 第${entry.citation.paragraph}段` : "",
        attrs: { "aria-label": `查看出处 ${n}`, "data-citation": n },
      });
      marker.addEventListener("click", () => {
        flashCard(cards.get(n));
        openContext(entry.citation, entry.hit, marker);
      });
      answer.appendChild(marker);
      last = markerRe.lastIndex;
    }
    if (last < text.length) answer.appendChild(document.createTextNode(text.slice(last)));
    bubble.appendChild(answer);

    // Source cards.
    const sources = h("div", { className: "sources" });
    if (abstained || cited.length === 0) {
      if (others.length) {
        const label = abstained
          ? "最接近的段落（仅供参考，不足以支持回答）"
          : "相关段落";
        sources.appendChild(
          h("p", { className: "sources-label" + (abstained ? " is-weak" : ""), text: label })
        );
        const list = h("div", { className: "source-list" });
        for (const entry of others) list.appendChild(sourceCard(entry, abstained));
        sources.appendChild(list);
      }
    } else {
      sources.appendChild(h("p", { className: "sources-label", text: `引用来源（${cited.length}）` }));
      const list = h("div", { className: "source-list" });
      for (const entry of cited) {
        const card = sourceCard(entry, false);
        cards.set(entry.number, card);
        list.appendChild(card);
      }
      sources.appendChild(list);
      if (others.length) {
        const more = h(
          "details",
          { className: "more-sources" },
          h("summary", { text: `其他相关段落（${others.length}）` })
        );
        const moreList = h("div", { className: "source-list" });
        for (const entry of others) moreList.appendChild(sourceCard(entry, false));
        more.appendChild(moreList);
        sources.appendChild(more);
      }
    }
    if (sources.childNodes.length) bubble.appendChild(sources);

    const node = h(
      "div",
      { className: "message message-answer", testid: "message-answer" },
      bubble
    );
    conversation.appendChild(node);
    return node;
  }

  /**
   * How the answer was made, when an LLM is configured: written by the model
   * (every sentence checked against the passage it cites; how many were
   * dropped), or quoted because the model's answer could not be used.
   * Nothing when no LLM is configured: quoted answers look as they always did.
   */
  function generationNote(data) {
    const dropped = Array.isArray(data.unsupported) ? data.unsupported.length : 0;
    if (data.generated) {
      const note = h(
        "p",
        { className: "generation-note is-generated", testid: "generated-badge" },
        h("span", { className: "generation-badge", text: "由模型撰写 · 已逐句核对来源" })
      );
      if (dropped) {
        note.appendChild(h("span", { className: "generation-dropped", testid: "unsupported-note", text: `已删除 ${dropped} 句无出处的内容` }));
      }
      return note;
    }
    if (data.generation_note && !data.abstained) {
      return h(
        "p",
        {
          className: "generation-note is-fallback",
          testid: "generation-fallback",
          title: String(data.generation_note),
        },
        h("span", {
          text: dropped
            ? `模型的回答有 ${dropped} 句无出处，未采用；以下为原文摘录`
            : "模型暂时无法回答，以下为原文摘录",
        })
      );
    }
    return null;
  }

  function citationMeta(citation) {
    const parts = [];
    if (!citation) return parts;
    if (citation.publication) parts.push(String(citation.publication));
    if (citation.date) parts.push(String(citation.date));
    if (citation.page_start) {
      parts.push(
        citation.page_end && citation.page_end !== citation.page_start
          ? `第 ${citation.page_start}–${citation.page_end} 页`
          : `第 ${citation.page_start} 页`
      );
    }
    if (citation.paragraph) parts.push(`第 ${citation.paragraph} 段`);
    if (citation.line_start) {
      parts.push(
        citation.line_end && citation.line_end !== citation.line_start
          ? `第 ${citation.line_start}–${citation.line_end} 行`
          : `第 ${citation.line_start} 行`
      );
    }
    return parts;
  }

  function sourceCard(entry, weak) {
    const citation = entry.citation || {};
    const hit = entry.hit;
    const badge = entry.number
      ? h("span", { className: "card-badge", text: `[${entry.number}]` })
      : h("span", { className: "card-badge is-plain", text: weak ? "参考" : "相关" });

    const passage = h("span", { className: "card-text" });
    if (hit) appendHighlighted(passage, hit.text, hit.highlight);

    const card = h(
      "button",
      {
        type: "button",
        className: "source-card" + (entry.number ? " is-cited" : "") + (weak ? " is-weak" : ""),
        testid: "source-card",
        attrs: {
          "data-doc": citation.doc,
          "data-start": citation.start,
        },
      },
      h("span", { className: "card-head" }, badge, h("span", { className: "card-title", text: citation.title || "（无标题）" })),
      h(
        "span",
        { className: "card-meta" },
        h("span", { className: "card-doc", text: citation.doc || "" }),
        citationMeta(citation).map((part) => h("span", { className: "card-meta-item", text: part }))
      ),
      hit ? passage : null,
      h("span", { className: "card-open", text: "查看原文 →" })
    );
    card.addEventListener("click", () => openContext(citation, hit, card));
    return card;
  }

  function flashCard(card) {
    if (!card) return;
    card.classList.remove("is-flash");
    // Force a reflow so the animation restarts.
    void card.offsetWidth;
    card.classList.add("is-flash");
  }

  // ------------------------------------------------------------ sending
  function setPending(value) {
    pending = value;
    sendButton.disabled = value;
    form.setAttribute("aria-busy", value ? "true" : "false");
  }

  async function send(text) {
    const question = String(text).trim();
    if (!question || pending) return;
    setPending(true);
    const userNode = addUserMessage(question);
    input.value = "";
    autosize();
    scrollConversationTo(userNode);
    const thinking = addThinking();
    let streaming = null;

    const { mode, k } = currentSettings();
    const messages = history.concat([{ role: "user", content: question }]);
    try {
      const data = await chatStream({ messages, k, mode }, (textSoFar) => {
        if (!streaming) {
          thinking.remove();
          streaming = addStreaming();
        }
        streaming.text.textContent = textSoFar;
      });
      thinking.remove();
      if (streaming) streaming.node.remove();
      addAnswer(data, question);
      history.push({ role: "user", content: question }, { role: "assistant", content: String(data.answer || "") });
    } catch (err) {
      thinking.remove();
      if (streaming) streaming.node.remove();
      addError(err instanceof ApiError ? err.message : "出现了意外错误，请刷新页面后再试。");
      if (!(err instanceof ApiError)) console.error(err);
    } finally {
      setPending(false);
      scrollConversationTo(userNode);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
  });

  // Enter sends, Shift+Enter is a newline, and Enter that confirms an input
  // method's candidate (pinyin composition) must not send.
  input.addEventListener("compositionstart", () => {
    composing = true;
  });
  input.addEventListener("compositionend", () => {
    composing = false;
  });
  input.addEventListener("blur", () => {
    composing = false;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    if (event.isComposing || event.keyCode === 229 || composing) return;
    if (event.shiftKey || event.altKey) return; // newline
    event.preventDefault();
    send(input.value);
  });

  function autosize() {
    input.style.height = "auto";
    const max = 180;
    input.style.height = Math.min(input.scrollHeight, max) + "px";
    input.style.overflowY = input.scrollHeight > max ? "auto" : "hidden";
  }
  input.addEventListener("input", autosize);

  for (const button of document.querySelectorAll(".example")) {
    button.addEventListener("click", () => {
      send(button.textContent);
    });
  }

  // ------------------------------------------------------ context panel
  function loadDocument(doc) {
    if (!documents.has(doc)) {
      const promise = api(`/api/documents/${encodeURIComponent(doc)}`, { method: "GET" });
      promise.catch(() => documents.delete(doc)); // retry next time
      documents.set(doc, promise);
    }
    return documents.get(doc);
  }

  /** Find the cited article and paragraph in a document response. */
  function locate(documentData, citation) {
    const articles = Array.isArray(documentData.articles) ? documentData.articles : [];
    const start = Number(citation.start);
    // 1. Exact: the paragraph that starts where the citation starts.
    for (const article of articles) {
      for (const paragraph of article.paragraphs || []) {
        if (paragraph.start === start) return { article, paragraph };
      }
    }
    // 2. The paragraph whose span contains the citation's start.
    for (const article of articles) {
      for (const paragraph of article.paragraphs || []) {
        if (paragraph.start <= start && start < paragraph.end) return { article, paragraph };
      }
    }
    // 3. Same headline and paragraph number.
    for (const article of articles) {
      if (article.title === citation.title) {
        const paragraph = (article.paragraphs || []).find((p) => p.paragraph === citation.paragraph);
        return { article, paragraph: paragraph || null };
      }
    }
    return { article: articles[0] || null, paragraph: null };
  }

  /**
   * Code-point range of the hit's answer span inside the paragraph text, or
   * null (then only the paragraph as a whole is highlighted).  The offsets
   * apply as they are when the paragraph is the hit's text; otherwise the
   * hit's text, then the span itself, is looked up in the paragraph, last
   * ignoring whitespace (repaired line breaks may differ).
   */
  function spanInParagraph(paragraphText, hit) {
    if (!hit || !Array.isArray(hit.highlight)) return null;
    const [s, e] = hit.highlight;
    if (!(e > s)) return null;
    if (paragraphText === hit.text) return hit.highlight;
    const cpIndex = (utf16Index) => Array.from(paragraphText.slice(0, utf16Index)).length;

    const whole = hit.text ? paragraphText.indexOf(hit.text) : -1;
    if (whole >= 0) {
      const offset = cpIndex(whole);
      return [offset + s, offset + e];
    }
    const span = highlightedText(hit);
    if (!span) return null;
    const index = paragraphText.indexOf(span);
    if (index >= 0) {
      const startCp = cpIndex(index);
      return [startCp, startCp + Array.from(span).length];
    }
    // Whitespace-insensitive: match on the non-space characters only.
    const chars = Array.from(paragraphText);
    const kept = [];
    chars.forEach((ch, i) => {
      if (!/\s/u.test(ch)) kept.push(i);
    });
    const squeezedText = kept.map((i) => chars[i]).join("");
    const squeezedSpan = Array.from(span).filter((ch) => !/\s/u.test(ch));
    if (!squeezedSpan.length) return null;
    const at = squeezedText.indexOf(squeezedSpan.join(""));
    if (at < 0) return null;
    const first = Array.from(squeezedText.slice(0, at)).length;
    return [kept[first], kept[first + squeezedSpan.length - 1] + 1];
  }

  function openPanel(opener) {
    if (!libraryPanel.hidden) closeLibrary(false);
    panelOpener = opener || null;
    panel.hidden = false;
    layout.classList.add("has-panel");
    document.body.classList.add("panel-open");
  }

  function closePanel() {
    panelRequest += 1;
    panel.hidden = true;
    layout.classList.remove("has-panel");
    document.body.classList.remove("panel-open");
    if (panelOpener && document.contains(panelOpener)) panelOpener.focus();
    panelOpener = null;
  }

  panelClose.addEventListener("click", closePanel);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!panel.hidden) {
      event.preventDefault();
      closePanel();
    } else if (!libraryPanel.hidden) {
      event.preventDefault();
      closeLibrary(true);
    }
  });

  async function openContext(citation, hit, opener) {
    if (!citation || !citation.doc) return;
    const request = ++panelRequest;
    openPanel(opener);
    panelTitle.textContent = citation.title || citation.doc;
    panelMeta.replaceChildren(
      h("span", { className: "card-doc", text: citation.doc }),
      ...citationMeta(citation).map((part) => h("span", { className: "card-meta-item", text: part }))
    );
    panelBody.replaceChildren(
      h(
        "p",
        { className: "context-loading", attrs: { role: "status" } },
        h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
        "正在载入原文…"
      )
    );
    panel.focus({ preventScroll: true });

    let pageViewMissing = false;
    if (citation.format === "pdf" && window.wenyuanPdfView) {
      const view = await pdfView(citation, hit);
      if (request !== panelRequest) return;
      if (view) {
        panelBody.replaceChildren(view);
        panelBody.scrollTop = 0;
        const mark = view.querySelector(".pdf-mark");
        if (mark) requestAnimationFrame(() => mark.scrollIntoView({ block: "center" }));
        return;
      }
      pageViewMissing = true;
    }

    let documentData;
    try {
      documentData = await loadDocument(citation.doc);
    } catch (err) {
      if (request !== panelRequest) return;
      panelBody.replaceChildren(
        h(
          "div",
          { className: "context-error", attrs: { role: "alert" } },
          h("p", { text: err instanceof ApiError ? err.message : "无法载入原文。" }),
          hit ? h("p", { className: "context-fallback-label", text: "引用的段落：" }) : null,
          hit ? fallbackPassage(hit) : null
        )
      );
      return;
    }
    if (request !== panelRequest) return;

    const { article, paragraph: cited } = locate(documentData, citation);
    if (!article) {
      panelBody.replaceChildren(h("p", { className: "context-error", text: "原文中找不到这一段。" }));
      return;
    }
    panelTitle.textContent = article.title || citation.title || citation.doc;
    const meta = documentData.metadata || {};
    const extra = [];
    if (meta.publication && !citation.publication) extra.push(String(meta.publication));
    if (meta.date && !citation.date) extra.push(String(meta.date));
    for (const part of extra) panelMeta.appendChild(h("span", { className: "card-meta-item", text: part }));

    let citedNode = null;
    const list = h("div", { className: "context-article" });
    for (const paragraph of article.paragraphs || []) {
      const isCited = cited && paragraph === cited;
      const node = h("p", {
        className: "context-paragraph" + (isCited ? " is-cited" : ""),
        testid: isCited ? "context-highlight" : null,
        attrs: {
          "data-paragraph": paragraph.paragraph,
          "aria-current": isCited ? "true" : null,
          title: isCited ? "引用的段落" : null,
        },
      });
      node.appendChild(
        h("span", {
          className: "paragraph-number",
          text: String(paragraph.paragraph),
          attrs: { "aria-hidden": "true" },
        })
      );
      const body = h("span", { className: "paragraph-text" });
      if (isCited) {
        const text = String(paragraph.text || "");
        appendHighlighted(body, text, spanInParagraph(text, hit), { className: "context-mark" });
        citedNode = node;
      } else {
        body.textContent = String(paragraph.text || "");
      }
      node.appendChild(body);
      list.appendChild(node);
    }
    const note = pageViewMissing
      ? h("p", { className: "context-note", testid: "pdf-unavailable", text: "PDF 页面无法显示，以下是从中提取的文字。" })
      : null;
    panelBody.replaceChildren(...(note ? [note, list] : [list]));
    panelBody.scrollTop = 0;
    if (citedNode) {
      // Wait for layout (and the mobile overlay transition) before centring.
      requestAnimationFrame(() => citedNode.scrollIntoView({ block: "center" }));
    }
  }

  /**
   * A PDF citation on its page(s): the quoted lines marked over the passage's,
   * a link to the file, and the passage as text below (the canvas cannot be read
   * or copied). An answer's citation marks its own boxes (the quoted sentence); a
   * passage card its hit's answer span. null: no pdf.js, show the rendition.
   */
  async function pdfView(citation, hit) {
    const own = Boolean(hit && hit.citation === citation);
    const marks = own ? hit.highlight_boxes || citation.boxes : citation.boxes;
    const passage = hit && hit.citation ? hit.citation.boxes : null;
    const width = Math.max(240, panelBody.clientWidth - 44); // the body's side padding
    const pages = await window.wenyuanPdfView.pages(citation.doc, marks, passage, citation.page_start, width);
    if (!pages) return null;
    const source = `/api/documents/${encodeURIComponent(citation.doc)}/source`;
    return h(
      "div",
      { className: "pdf-view" },
      pages,
      h("a", {
        className: "pdf-source-link",
        testid: "pdf-source-link",
        text: "打开 PDF 原文件",
        attrs: { href: source, target: "_blank", rel: "noopener" },
      }),
      hit ? h("p", { className: "context-fallback-label", text: "引用的段落：" }) : null,
      hit ? fallbackPassage(hit) : null
    );
  }

  function fallbackPassage(hit) {
    const node = h("p", { className: "context-paragraph is-cited", testid: "context-highlight" });
    appendHighlighted(node, hit.text, hit.highlight, { className: "context-mark" });
    return node;
  }

  // ------------------------------------------------------------ library
  /**
   * Writes (uploads, deletes) wait here and run one at a time, in order, so
   * this tab never competes with itself for the server's single writer.
   * A job: {start(), execute(token) -> Promise, succeed(data), fail(err),
   * wait() for the token, queue() behind another write, cancel()}.
   */
  const writeQueue = [];
  let writing = false;
  /** Fallback when sessionStorage is unavailable; still forgotten with the tab. */
  let memoryToken = "";
  let libraryRequest = 0;
  /** Names uploaded from this page, badged in the list. */
  const uploaded = new Set();

  function loadToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
      return memoryToken;
    }
  }

  function saveToken(token) {
    memoryToken = token;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (_) {
      /* memoryToken keeps it */
    }
    tokenForget.hidden = false;
  }

  function forgetToken() {
    memoryToken = "";
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      /* nothing stored */
    }
    tokenForget.hidden = true;
  }

  function writesEnabled() {
    return Boolean(health && health.writes === true);
  }

  function setLibraryStatus(text) {
    libraryStatus.textContent = text;
  }

  function askToken(message) {
    if (tokenForm.hidden) tokenInput.value = "";
    tokenError.hidden = !message;
    tokenError.textContent = message || "";
    tokenForm.hidden = false;
    if (!libraryPanel.hidden) tokenInput.focus();
  }

  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (!token) {
      tokenInput.focus();
      return;
    }
    saveToken(token);
    tokenInput.value = "";
    tokenError.hidden = true;
    tokenForm.hidden = true;
    uploadButton.focus();
    runWrites();
  });

  tokenCancel.addEventListener("click", () => {
    tokenForm.hidden = true;
    tokenInput.value = "";
    for (const job of writeQueue.splice(0)) job.cancel();
    setLibraryStatus("已取消。");
    uploadButton.focus();
  });

  tokenForget.addEventListener("click", () => {
    forgetToken();
    setLibraryStatus("已忘记访问令牌；下次上传或删除时会再次询问。");
    uploadButton.focus();
  });

  function unexpected(err) {
    if (err instanceof ApiError) return err;
    console.error(err);
    return new ApiError("出现了意外错误，请刷新页面后再试。", 0, "unexpected");
  }

  async function runWrites() {
    if (writing) return;
    writing = true;
    try {
      while (writeQueue.length) {
        const token = loadToken();
        if (!token) {
          for (const job of writeQueue) job.wait();
          askToken("");
          return;
        }
        const [job, ...later] = writeQueue;
        for (const next of later) next.queue();
        job.start();
        try {
          const data = await job.execute(token);
          writeQueue.shift();
          documents.clear(); // cached passages may belong to a replaced document
          if (window.wenyuanPdfView) window.wenyuanPdfView.forget();
          job.succeed(data);
        } catch (err) {
          const error = unexpected(err);
          if (error.status === 401) {
            forgetToken();
            for (const waiting of writeQueue) waiting.wait();
            askToken(`访问令牌不正确，请重新输入（${error.message}）`);
            return;
          }
          writeQueue.shift();
          job.fail(error);
        }
        await refreshLibrary();
        // A deleted row took the focus with it: keep it in the panel.
        if (!libraryPanel.hidden && document.activeElement === document.body) {
          libraryPanel.focus({ preventScroll: true });
        }
      }
    } finally {
      writing = false;
    }
  }

  /**
   * Send a write and see it through: a 202 Accepted is followed at its job URL
   * (GET /api/jobs/{id}) until done, showing the server's progress; a 503
   * index_busy is sent again after its Retry-After, a few times.
   */
  async function sendWrite(send, ui) {
    for (let attempt = 1; ; attempt++) {
      try {
        const { data, response } = await send();
        if (response.status !== 202) return data;
        return await followJob(response.headers.get("Location") || `/api/jobs/${data.id}`, data, ui);
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== "index_busy" || attempt > BUSY_RETRIES) throw err;
        const wait = Math.min(60, Math.max(1, err.retryAfter || 5));
        for (let left = wait; left > 0; left--) {
          ui.busy(left, attempt);
          await sleep(1000);
        }
      }
    }
  }

  async function followJob(location, job, ui) {
    for (;;) {
      ui.progress(job);
      if (job.state === "done") return job.result;
      if (job.state === "failed" || job.state === "cancelled") {
        const error = job.error || { message: "服务器取消了这次写入。", status: 0, code: "cancelled" };
        throw new ApiError(error.message, error.status, error.code);
      }
      await sleep(JOB_POLL_MS);
      job = await api(location, { method: "GET" });
    }
  }

  /** The server's progress of a job as the row's bar: determinate once embedding starts. */
  function showProgress(bar, job) {
    const fraction = Number(job.progress && job.progress.fraction) || 0;
    bar.hidden = false;
    bar.classList.toggle("is-determinate", job.state === "running" && fraction > 0);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    bar.firstChild.style.width = bar.classList.contains("is-determinate") ? `${Math.round(fraction * 100)}%` : "";
  }

  const STAGE_TEXT = {
    reading: "读取资料",
    passages: "嵌入段落",
    sentences: "嵌入句子",
    committing: "写入索引",
  };

  function jobText(job) {
    if (job.state === "queued") return `排队中：前面还有 ${Math.max(0, job.position - 1)} 个写入`;
    const progress = job.progress || {};
    const stage = STAGE_TEXT[progress.stage] || "正在索引";
    const count = progress.total ? ` ${progress.done}/${progress.total}` : "";
    return `正在索引：${stage}${count} · ${Math.round((Number(progress.fraction) || 0) * 100)}% · ${Math.floor(job.elapsed_s || 0)} 秒`;
  }

  function enqueue(job) {
    writeQueue.push(job);
    runWrites();
  }

  function seconds(ms) {
    return (Number(ms) / 1000).toFixed(1);
  }

  function uploadJob(file) {
    const name = file.name;
    const state = h("span", { className: "upload-state", testid: "upload-state", text: "等待上传" });
    const bar = h(
      "div",
      {
        className: "progress",
        testid: "upload-progress",
        hidden: true,
        attrs: { role: "progressbar", "aria-label": `正在索引 ${name}` },
      },
      h("span", { className: "progress-bar" })
    );
    const item = h(
      "li",
      { className: "upload-item is-queued", testid: "upload-item", attrs: { "data-name": name } },
      h("div", { className: "upload-head" }, h("span", { className: "upload-name", text: name }), state),
      bar
    );
    let timer = 0;
    const setState = (kind, text) => {
      item.className = `upload-item ${kind}`;
      state.textContent = text;
    };
    const stop = () => {
      clearInterval(timer);
      timer = 0;
      bar.hidden = true;
      bar.classList.remove("is-determinate");
    };
    return {
      item,
      start() {
        const began = performance.now();
        const tick = () => {
          state.textContent = `正在索引… ${Math.floor((performance.now() - began) / 1000)} 秒`;
        };
        setState("is-running", "");
        tick();
        bar.hidden = false;
        timer = setInterval(tick, 1000);
        setLibraryStatus(`正在上传并索引 ${name}…`);
      },
      execute(token) {
        const send = () =>
          request(
            `/api/documents/${encodeURIComponent(name)}`,
            {
              method: "PUT",
              headers: { "Content-Type": uploadType(name), Authorization: `Bearer ${token}` },
              body: file,
            },
            UPLOAD_TIMEOUT_MS
          );
        return sendWrite(send, {
          busy(secondsLeft, attempt) {
            setState("is-queued", `索引队列已满，${secondsLeft} 秒后重试（第 ${attempt} 次）`);
          },
          progress(job) {
            clearInterval(timer);
            timer = 0;
            showProgress(bar, job);
            setState("is-running", jobText(job));
          },
        });
      },
      succeed(data) {
        stop();
        uploaded.add(name);
        const text = `已索引：${data.chunks} 段，新嵌入 ${data.embedded} 段`;
        setState("is-done", text);
        if (Number.isFinite(Number(data.took_ms))) {
          state.appendChild(h("span", { className: "upload-took", text: ` · 用时 ${seconds(data.took_ms)} 秒` }));
        }
        setLibraryStatus(`${name} ${text}，现在可以提问了。`);
      },
      fail(err) {
        stop();
        setState("is-error", err.message);
        setLibraryStatus(`${name} 上传失败：${err.message}`);
      },
      wait() {
        stop();
        setState("is-queued", "等待访问令牌");
      },
      queue() {
        setState("is-queued", "等待上传");
      },
      cancel() {
        stop();
        setState("is-cancelled", "已取消");
      },
    };
  }

  /** The formats the corpus reads (qa.ingest.formats); .txt exactly as before, the others as the file's bytes. */
  const UPLOAD_NAME = /(\.txt|\.(md|markdown|html?|docx|pdf))$/i;

  function uploadType(name) {
    return /\.txt$/.test(name) ? "text/plain; charset=utf-8" : "application/octet-stream";
  }

  function addUploads(files) {
    // Finished rows of earlier batches make way for the new one.
    for (const row of Array.from(uploadList.children)) {
      if (!row.classList.contains("is-queued") && !row.classList.contains("is-running")) row.remove();
    }
    for (const file of files) {
      const job = uploadJob(file);
      uploadList.appendChild(job.item);
      if (!UPLOAD_NAME.test(file.name)) {
        job.fail(new ApiError("只能上传 .txt、.md、.html、.docx 或 .pdf 文件。", 0, "not_readable"));
        continue;
      }
      enqueue(job);
    }
  }

  uploadButton.addEventListener("click", () => uploadInput.click());
  uploadInput.addEventListener("change", () => {
    const files = Array.from(uploadInput.files || []);
    uploadInput.value = "";
    if (files.length) addUploads(files);
  });

  function deleteJob(name, title, ui) {
    return {
      start() {
        ui.note.textContent = "正在删除…";
        setLibraryStatus(`正在删除 ${name}…`);
      },
      execute(token) {
        const send = () =>
          request(`/api/documents/${encodeURIComponent(name)}`, {
            method: "DELETE",
            headers: { Authorization: `Bearer ${token}` },
          }, UPLOAD_TIMEOUT_MS);
        return sendWrite(send, {
          busy(secondsLeft) {
            ui.note.textContent = `索引队列已满，${secondsLeft} 秒后重试`;
          },
          progress(job) {
            ui.note.textContent = jobText(job);
          },
        });
      },
      succeed() {
        ui.note.textContent = "已删除";
        setLibraryStatus(`已删除“${title}”（${name}）。`);
      },
      fail(err) {
        ui.reset();
        ui.note.textContent = err.message;
        ui.note.classList.add("is-error");
        setLibraryStatus(`删除 ${name} 失败：${err.message}`);
      },
      wait() {
        ui.note.textContent = "等待访问令牌";
      },
      queue() {
        ui.note.textContent = "排队等待删除…";
      },
      cancel() {
        ui.reset();
      },
    };
  }

  /** The first headline that is not page furniture (masthead, ads, weather). */
  function headline(doc) {
    const titles = Array.isArray(doc.titles) ? doc.titles.map((t) => String(t || "").trim()) : [];
    return titles.find((t) => t && !FURNITURE_TITLES.has(t)) || titles.find(Boolean) || String(doc.doc || "");
  }

  function documentItem(doc) {
    const name = String(doc.doc || "");
    const title = headline(doc);
    const meta = doc.metadata && typeof doc.metadata === "object" ? doc.metadata : {};
    const parts = [];
    if (meta.publication) parts.push(String(meta.publication));
    if (meta.date) parts.push(String(meta.date));
    parts.push(`${Number(doc.chunks) || 0} 段`);

    const item = h(
      "li",
      { className: "document-item", testid: "document-item", attrs: { "data-doc": name } },
      h(
        "div",
        { className: "document-main" },
        h("p", { className: "document-title", testid: "document-title", text: title }),
        h(
          "p",
          { className: "document-meta" },
          uploaded.has(name) ? h("span", { className: "document-badge", text: "新上传" }) : null,
          h("span", { className: "card-doc", text: name }),
          parts.map((part) => h("span", { className: "card-meta-item", text: part }))
        )
      )
    );
    if (!writesEnabled()) return item;

    const note = h("p", { className: "document-note", testid: "document-note" });
    const remove = h("button", {
      type: "button",
      className: "button button-quiet button-danger document-delete",
      testid: "document-delete",
      text: "删除",
      attrs: { "aria-label": `删除 ${title}` },
    });
    const confirmButton = h("button", {
      type: "button",
      className: "button button-danger",
      testid: "delete-confirm-button",
      text: "确认删除",
    });
    const cancelButton = h("button", { type: "button", className: "button", text: "取消" });
    const confirmBox = h(
      "div",
      {
        className: "document-confirm",
        testid: "delete-confirm",
        hidden: true,
        attrs: { role: "group", "aria-label": `确认删除 ${title}` },
      },
      h("p", { className: "document-confirm-text", text: `删除“${title}”？删除后不能再从这份资料回答问题。` }),
      h("div", { className: "document-confirm-actions" }, confirmButton, cancelButton)
    );
    const ui = {
      note,
      reset() {
        confirmBox.hidden = true;
        confirmButton.disabled = false;
        cancelButton.disabled = false;
        remove.hidden = false;
        note.textContent = "";
      },
    };
    remove.addEventListener("click", () => {
      note.textContent = "";
      note.classList.remove("is-error");
      remove.hidden = true;
      confirmBox.hidden = false;
      confirmBox.scrollIntoView({ block: "nearest" });
      cancelButton.focus();
    });
    cancelButton.addEventListener("click", () => {
      ui.reset();
      remove.focus();
    });
    confirmButton.addEventListener("click", () => {
      confirmButton.disabled = true;
      cancelButton.disabled = true;
      enqueue(deleteJob(name, title, ui));
    });
    item.appendChild(remove);
    item.appendChild(confirmBox);
    item.appendChild(note);
    return item;
  }

  function renderUploadState() {
    const known = health !== null;
    uploadArea.hidden = !writesEnabled();
    uploadDisabled.hidden = !known || writesEnabled();
    tokenForget.hidden = !loadToken();
  }

  const CORPUS_TEXT = {
    in_sync: () => "索引与资料文件夹一致",
    updating: (n) => `正在补建索引：文件夹中有 ${n} 份文档尚未索引（期间照常回答）`,
    out_of_sync: (n) => `索引落后于资料文件夹（${n} 份文档），详见服务器日志`,
  };
  let corpusTimer = 0;

  /** The server's corpus state from /api/health; while it catches up, look again until it is in sync. */
  function renderCorpusState() {
    const corpus = health && health.corpus;
    corpusState.hidden = !corpus;
    if (!corpus) return;
    const text = CORPUS_TEXT[corpus.state] || CORPUS_TEXT.out_of_sync;
    corpusState.textContent = text(corpus.pending);
    corpusState.dataset.state = corpus.state;
    clearTimeout(corpusTimer);
    if (corpus.state === "updating" && !libraryPanel.hidden) {
      corpusTimer = setTimeout(async () => {
        try {
          health = await api("/api/health", { method: "GET" });
        } catch (_) {
          /* shown again at the next look */
        }
        if (health && health.corpus && health.corpus.state !== "updating") refreshLibrary();
        else renderCorpusState();
      }, CORPUS_POLL_MS);
    }
  }

  function renderDocuments(list) {
    const docs = Array.isArray(list) ? list : [];
    const chunks = docs.reduce((sum, doc) => sum + (Number(doc.chunks) || 0), 0);
    librarySummary.replaceChildren(
      h("span", { className: "card-meta-item", text: `${docs.length} 份文档` }),
      h("span", { className: "card-meta-item", text: `共 ${chunks} 段` })
    );
    documentList.replaceChildren(
      ...(docs.length
        ? docs.map(documentItem)
        : [h("li", { className: "document-empty", text: "资料库是空的。" })])
    );
  }

  async function refreshLibrary() {
    const request = ++libraryRequest;
    libraryRefresh.disabled = true;
    libraryPanel.setAttribute("aria-busy", "true");
    if (!documentList.children.length) {
      documentList.replaceChildren(h("li", { className: "document-empty", text: "正在载入…" }));
    }
    try {
      const [healthData, listData] = await Promise.all([
        api("/api/health", { method: "GET" }),
        api("/api/documents", { method: "GET" }),
      ]);
      if (request !== libraryRequest) return;
      health = healthData;
      renderUploadState();
      renderCorpusState();
      renderDocuments(listData.documents);
    } catch (err) {
      if (request !== libraryRequest) return;
      const error = unexpected(err);
      documentList.replaceChildren(
        h("li", { className: "document-empty is-error", text: `无法载入资料列表：${error.message}` })
      );
    } finally {
      if (request === libraryRequest) {
        libraryRefresh.disabled = false;
        libraryPanel.removeAttribute("aria-busy");
      }
    }
  }

  function openLibrary() {
    if (!panel.hidden) closePanel();
    libraryPanel.hidden = false;
    layout.classList.add("has-panel");
    document.body.classList.add("panel-open");
    libraryToggle.setAttribute("aria-expanded", "true");
    libraryPanel.focus({ preventScroll: true });
    renderUploadState();
    refreshLibrary();
  }

  function closeLibrary(restoreFocus) {
    libraryPanel.hidden = true;
    libraryToggle.setAttribute("aria-expanded", "false");
    if (panel.hidden) {
      layout.classList.remove("has-panel");
      document.body.classList.remove("panel-open");
    }
    if (restoreFocus) libraryToggle.focus();
  }

  libraryToggle.addEventListener("click", () => {
    if (libraryPanel.hidden) openLibrary();
    else closeLibrary(true);
  });
  libraryClose.addEventListener("click", () => closeLibrary(true));
  libraryRefresh.addEventListener("click", () => refreshLibrary());

  // ------------------------------------------------------------ health
  async function checkHealth(attempt) {
    try {
      health = await api("/api/health", { method: "GET" });
      statusBanner.hidden = true;
      statusBanner.textContent = "";
    } catch (err) {
      statusBanner.hidden = false;
      statusBanner.textContent =
        err.status === 503
          ? `资料库正在加载，请稍候…（${err.message}）`
          : `暂时无法连接服务器：${err.message}`;
      if (attempt < 90) setTimeout(() => checkHealth(attempt + 1), 2000);
    }
  }

  // ------------------------------------------------------------ start
  loadSettings();
  autosize();
  checkHealth(0);
})();
