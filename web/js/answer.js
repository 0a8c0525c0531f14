/* 问源 (wenyuan) chat page: an answer on the page: its text with [n] citation markers, its source cards. */

import { appendHighlighted, h } from "./dom.js";
import { addMessage } from "./messages.js";
import { citationMeta, openContext } from "./source-panel.js";

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

export function addAnswer(data, asked) {
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
  return addMessage(node);
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
