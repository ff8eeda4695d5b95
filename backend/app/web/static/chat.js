// The resident chat: one conversation per browser, kept across reloads (localStorage),
// every answer rated with 1–5 stars and an optional comment (POST /api/voice/feedback).
// Questions are typed or spoken (chat_voice.js); any answer can be listened to.
"use strict";

const STORE = "vasdom-chat";
const SOURCES = {
  cache: "проверенный ответ",
  local: "локальная модель",
  llm: "платная модель",
  knowledge_base: "база знаний",
  fallback: "база знаний",
};

const state = load();
const conversation = document.getElementById("conversation");
const statusBox = document.getElementById("status");

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE));
    if (saved && saved.sessionId && Array.isArray(saved.turns)) return saved;
  } catch (error) { /* a damaged store starts a new conversation */ }
  return { sessionId: null, turns: [] };
}

function save() { localStorage.setItem(STORE, JSON.stringify(state)); }

function showStatus(text) {
  statusBox.textContent = text;
  statusBox.classList.toggle("hidden", !text);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (error) { /* not JSON */ }
  return `Ошибка ${response.status}`;
}

function render() {
  conversation.querySelectorAll(".message").forEach((node) => node.remove());
  document.getElementById("empty").classList.toggle("hidden", state.turns.length > 0);
  state.turns.forEach((turn) => {
    conversation.append(turn.spoken ? spokenBubble(turn.question) : bubble("question", turn.question));
    conversation.append(answerBubble(turn));
  });
}

function bubble(kind, text) {
  const node = document.createElement("div");
  node.className = `message ${kind}`;
  node.textContent = text;
  return node;
}

// A spoken question shows what the bot heard, marked as heard.
function spokenBubble(transcript) {
  const node = bubble("question spoken", transcript);
  const label = document.createElement("span");
  label.className = "source";
  label.textContent = "голосом · распознано";
  node.append(document.createElement("br"), label);
  return node;
}

function answerBubble(turn) {
  const node = bubble("answer", turn.answer);
  node.dataset.logId = turn.logId;
  const label = document.createElement("span");
  label.className = "source";
  label.textContent = SOURCES[turn.source] || turn.source;
  const listen = document.createElement("button");
  listen.type = "button";
  listen.className = "listen";
  listen.textContent = "▶ Прослушать";
  listen.addEventListener("click", () => answerPlayer.play(
    `/api/voice/logs/${turn.logId}/speech?feedback_token=${encodeURIComponent(turn.feedbackToken)}`,
    () => showStatus("Озвучивание ответа сейчас недоступно."),
  ));
  node.append(document.createElement("br"), label, listen);

  const stars = document.createElement("div");
  stars.className = "stars";
  stars.setAttribute("aria-label", "Оцените ответ");
  for (let value = 1; value <= 5; value += 1) {
    const star = document.createElement("button");
    star.type = "button";
    star.textContent = "★";
    star.title = `${value} из 5`;
    star.setAttribute("aria-label", `Оценка ${value}`);
    star.dataset.rating = String(value);
    star.classList.toggle("on", Boolean(turn.rating) && value <= turn.rating);
    star.addEventListener("click", () => rate(turn, value, null));
    stars.append(star);
  }
  const thanks = document.createElement("span");
  thanks.className = "thanks";
  thanks.textContent = turn.rating ? "Спасибо за оценку!" : "";
  stars.append(thanks);
  node.append(stars);

  const comment = document.createElement("form");
  comment.className = "comment";
  comment.innerHTML = '<input type="text" maxlength="4000" placeholder="Комментарий (необязательно)" aria-label="Комментарий">'
    + '<button type="submit">Отправить</button>';
  comment.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = comment.querySelector("input").value.trim();
    if (!turn.rating) { showStatus("Сначала поставьте оценку звёздами."); return; }
    if (text) rate(turn, turn.rating, text);
  });
  node.append(comment);
  return node;
}

async function rate(turn, rating, comment) {
  showStatus("");
  try {
    const response = await fetch("/api/voice/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        log_id: turn.logId, rating, feedback_text: comment, feedback_token: turn.feedbackToken,
      }),
    });
    if (!response.ok) { showStatus(await errorText(response)); return; }
    turn.rating = rating;
    save();
    setUpMicrophone(document.getElementById("mic"), { onRecorded: askAloud, onProblem: showStatus });
render();
  } catch (error) {
    showStatus("Сервис сейчас недоступен, оценка не отправлена. Попробуйте чуть позже.");
  }
}

// One turn through POST /api/voice/process: a JSON body for a typed question, a form with
// the recording for a spoken one. Returns the answer, or null after saying what went wrong.
async function send(request) {
  const buttons = [document.getElementById("send"), document.getElementById("mic")];
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const response = await fetch("/api/voice/process", Object.assign({ method: "POST" }, request));
    if (!response.ok) { showStatus(await errorText(response)); return null; }
    return await response.json();
  } catch (error) {
    showStatus("Сервис сейчас недоступен. Проверьте соединение и попробуйте ещё раз.");
    return null;
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

function remember(question, body, spoken) {
  state.sessionId = body.session_id;
  // The server-issued token proves this browser is the conversation (its history is shown
  // to the model only with it); kept beside the session id.
  if (body.conversation_token) state.conversationToken = body.conversation_token;
  state.turns.push({
    question, answer: body.response, logId: body.log_id, feedbackToken: body.feedback_token,
    source: body.answer_source, rating: null, spoken,
  });
  save();
  setUpMicrophone(document.getElementById("mic"), { onRecorded: askAloud, onProblem: showStatus });
render();
  window.scrollTo(0, document.body.scrollHeight);
}

async function ask(question) {
  showStatus("");
  const body = await send({
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      message: question, session_id: state.sessionId, conversation_token: state.conversationToken || null,
    }),
  });
  if (body) remember(question, body, false);
  return Boolean(body);
}

// A recorded question: the transcript becomes the resident's message, the answer is spoken.
async function askAloud(recording, filename) {
  showStatus("Распознаём вопрос…");
  const form = new FormData();
  form.append("audio", recording, filename);
  if (state.sessionId) form.append("session_id", state.sessionId);
  if (state.conversationToken) form.append("conversation_token", state.conversationToken);
  form.append("speak", "true");
  const body = await send({ body: form });
  if (!body) return;
  showStatus("");
  remember(body.transcript, body, true);
  if (body.speech_wav_base64) answerPlayer.playInline(body.speech_wav_base64, showStatus);
}

document.getElementById("ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = document.getElementById("question");
  const question = field.value.trim();
  if (!question) return;
  if (await ask(question)) field.value = "";
});

document.getElementById("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    document.getElementById("ask").requestSubmit();
  }
});

document.getElementById("new-chat").addEventListener("click", () => {
  state.sessionId = null;
  state.turns = [];
  save();
  setUpMicrophone(document.getElementById("mic"), { onRecorded: askAloud, onProblem: showStatus });
render();
});

setUpMicrophone(document.getElementById("mic"), { onRecorded: askAloud, onProblem: showStatus });
render();
