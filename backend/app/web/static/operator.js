// The operator console: log in with the admin key, work the review queue (correct answers
// in place, look at similar past dialogs), read alerts.
"use strict";

const SOURCE_NAMES = {
  cache: "проверенный ответ", local: "локальная модель", llm: "платная модель",
  knowledge_base: "база знаний", fallback: "база знаний",
};


// What the resident's next message said about the answer (implicit signals).
const SIGNAL_NAMES = {
  re_ask: "жилец переспросил", escalation: "попросил оператора", thanks: "поблагодарил",
  abandoned: "ушёл, не получив ответа",
};

function signalLine(signals) {
  return el("p", { class: "signals", text: `Без оценки, по диалогу: ${signals.map((s) => SIGNAL_NAMES[s] || s).join(", ")}` });
}

// A spoken question: the question shown is the recogniser's transcript.
function heardLine(confidence) {
  return el("p", { class: "heard", text: `Вопрос задан голосом, распознан с уверенностью ${Math.round(confidence * 100)} %` });
}

// A stored recording of a spoken question (STORE_AUDIO): fetched with the operator's key
// only when asked for, then played in place.
function recordingPlayer(logId) {
  const box = el("div", { class: "recording" });
  const button = el("button", { type: "button", class: "listen", text: "Прослушать вопрос" });
  button.addEventListener("click", async () => {
    const audio = await guarded(() => operatorApi.blob(`/api/voice/logs/${logId}/recording`));
    if (!audio) return;
    const player = el("audio", { controls: "", "aria-label": "Запись вопроса жильца" });
    player.src = URL.createObjectURL(audio);
    box.replaceChildren(player);
    player.play().catch(() => { /* autoplay refused: the controls are there */ });
  });
  box.append(button);
  return box;
}

function filterQuery() { return document.getElementById("filter").value; }

async function loadQueue() {
  const page = await guarded(() => operatorApi.call(`/api/voice/logs?limit=100&${filterQuery()}`));
  if (!page) return;
  document.getElementById("total").textContent = `Найдено: ${page.total}`;
  const queue = document.getElementById("queue");
  queue.replaceChildren();
  if (!page.items.length) queue.append(el("p", { class: "empty", text: "Здесь пока пусто: проверять нечего." }));
  page.items.forEach((item) => queue.append(card(item)));
}

function card(item) {
  const when = new Date(item.created_at).toLocaleString("ru-RU");
  const rating = item.rating ? `${"★".repeat(item.rating)}${"☆".repeat(5 - item.rating)}` : "без оценки";
  const node = el("article", { class: "card review", "data-log-id": item.log_id },
    el("p", { class: "muted", text: `${when} · ${SOURCE_NAMES[item.answer_source] || item.answer_source} · ${rating}` }),
    el("p", { class: "question", text: item.user_message }),
    el("p", { class: "answer", text: item.ai_response }));
  if (item.asr_confidence !== null && item.asr_confidence !== undefined) node.append(heardLine(item.asr_confidence));
  if (item.has_recording) node.append(recordingPlayer(item.log_id));
  if (item.signals && item.signals.length) node.append(signalLine(item.signals));
  if (item.feedback_text) node.append(el("p", { class: "muted", text: `Комментарий жильца: ${item.feedback_text}` }));
  if (item.corrected_response) node.append(el("p", { class: "corrected", text: `Исправлено: ${item.corrected_response}` }));

  const editor = el("form", { class: "correction" },
    el("textarea", { "aria-label": "Исправленный ответ", rows: "3", required: "" }),
    el("button", { class: "primary", type: "submit", text: item.corrected_response ? "Изменить исправление" : "Сохранить исправление" }));
  editor.querySelector("textarea").value = item.corrected_response || item.ai_response;
  editor.addEventListener("submit", (event) => {
    event.preventDefault();
    correct(item, editor.querySelector("textarea").value.trim());
  });
  const similar = el("button", { type: "button", class: "similar", text: "Похожие диалоги" });
  const similarBox = el("div", { class: "similar-list" });
  similar.addEventListener("click", () => showSimilar(item.log_id, similarBox));
  node.append(editor, similar, similarBox);
  return node;
}

async function correct(item, text) {
  if (!text) { showStatus("Исправление не может быть пустым."); return; }
  const result = await guarded(() => operatorApi.call(`/api/voice/logs/${item.log_id}/correction`, {
    method: "POST", body: JSON.stringify({ corrected_response: text, operator: "консоль оператора" }),
  }));
  if (result) {
    await loadQueue();
    showStatus(result.message);  // after the reload, which clears the status line
  }
}

async function showSimilar(logId, box) {
  const dialogs = await guarded(() => operatorApi.call(`/api/voice/similar/${logId}?limit=5`));
  if (!dialogs) return;
  box.replaceChildren();
  if (!dialogs.length) box.append(el("p", { class: "muted", text: "Похожих диалогов пока нет." }));
  dialogs.forEach((dialog) => box.append(el("p", { class: "muted",
    text: `${Math.round(dialog.similarity_score * 100)}% · ${dialog.user_message} → ${dialog.ai_response}` })));
}

async function loadAlerts() {
  const alerts = await guarded(() => operatorApi.call("/api/voice/alerts?limit=20"));
  if (!alerts) return;
  const box = document.getElementById("alerts");
  box.replaceChildren();
  if (!alerts.length) box.append(el("p", { class: "empty", text: "Оповещений нет." }));
  alerts.forEach((alert) => box.append(el("p", { class: `alert ${alert.severity}`,
    text: `${new Date(alert.created_at).toLocaleString("ru-RU")} · ${alert.title}${alert.repeats ? ` (×${alert.repeats + 1})` : ""}` })));
}

// The operators' queue of answers residents made served (or that wait for an operator).
async function loadLearned() {
  const answers = await guarded(() => operatorApi.call("/api/voice/verified-answers?awaiting_review=true&limit=50"));
  if (!answers) return;
  const box = document.getElementById("learned");
  box.replaceChildren();
  if (!answers.length) box.append(el("p", { class: "empty", text: "Новых ответов от жильцов нет." }));
  answers.forEach((answer) => box.append(learnedCard(answer)));
}

function learnedCard(answer) {
  const state = answer.status === "held" ? "ждёт проверки" : "выдаётся из кэша";
  const card = el("div", { class: "card learned-answer", "data-answer-id": answer.id },
    el("p", { text: answer.answer_text }),
    el("p", { class: "muted", text: `${state} · одобрили ${answer.approving_clients}, отклонили ${answer.refusing_clients} · ${answer.status_reason}` }),
    el("div", { class: "toolbar" },
      el("button", { type: "button", class: "approve primary", text: "Одобрить" }),
      el("button", { type: "button", class: "withdraw delete", text: "Отозвать" })));
  card.querySelector(".approve").addEventListener("click", async () => {
    const done = await guarded(() => operatorApi.call(`/api/voice/verified-answers/${answer.id}/approve`, { method: "POST" }));
    if (done) { showStatus("Ответ одобрен"); await loadLearned(); }
  });
  card.querySelector(".withdraw").addEventListener("click", async () => {
    const done = await guarded(() => operatorApi.call(`/api/voice/verified-answers/${answer.id}/withdraw`, {
      method: "POST", body: JSON.stringify({ operator: "оператор" }),
    }));
    if (done) { showStatus("Ответ отозван"); await loadLearned(); }
  });
  return card;
}

async function loadKnowledge() {
  const entries = await guarded(() => operatorApi.call("/api/voice/knowledge"));
  if (!entries) return;
  const box = document.getElementById("kb");
  box.replaceChildren();
  document.getElementById("kb-summary").textContent = `Все факты (${entries.length})`;
  if (!entries.length) box.append(el("p", { class: "empty", text: "В базе знаний пока нет фактов." }));
  entries.forEach((entry) => box.append(knowledgeCard(entry)));
}

function knowledgeCard(entry) {
  const form = el("form", { class: "card kb-entry", "data-entry-id": String(entry.id) },
    el("input", { type: "text", "aria-label": "Раздел" }),
    el("textarea", { rows: "2", "aria-label": "Факт", required: "" }),
    el("p", { class: "muted", text: `Источник: ${entry.source}` }),
    el("div", { class: "toolbar" },
      el("button", { type: "submit", text: "Сохранить" }),
      el("button", { type: "button", class: "delete", text: "Удалить" })));
  form.querySelector("input").value = entry.title;
  form.querySelector("textarea").value = entry.content;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await guarded(() => operatorApi.call(`/api/voice/knowledge/${entry.id}`, {
      method: "PUT",
      body: JSON.stringify({ title: form.querySelector("input").value, content: form.querySelector("textarea").value }),
    }));
    if (saved) showStatus("Факт сохранён");
  });
  form.querySelector(".delete").addEventListener("click", async () => {
    await guarded(() => operatorApi.call(`/api/voice/knowledge/${entry.id}`, { method: "DELETE" }));
    await loadKnowledge();
  });
  return form;
}

async function start() {
  await loadQueue();
  await loadLearned();
  await loadKnowledge();
  await loadAlerts();
}

document.getElementById("kb-add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = document.getElementById("kb-title");
  const content = document.getElementById("kb-content");
  const added = await guarded(() => operatorApi.call("/api/voice/knowledge", {
    method: "POST", body: JSON.stringify({ title: title.value, content: content.value }),
  }));
  if (added) {
    title.value = "";
    content.value = "";
    await loadKnowledge();
    showStatus("Факт добавлен: бот будет опираться на него в ответах");
  }
});

document.getElementById("filter").addEventListener("change", loadQueue);
document.getElementById("csv").addEventListener("click", (event) => {
  event.preventDefault();
  guarded(() => operatorApi.download(`/api/voice/logs?limit=500&format=csv&${filterQuery()}`, "dialogs.csv"));
});

document.getElementById("alerts-csv").addEventListener("click", () =>
  guarded(() => operatorApi.download("/api/voice/alerts?limit=500&format=csv", "alerts.csv")));

setUpLogin(start);
