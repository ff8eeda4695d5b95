// The dashboard's A/B section: running and finished experiments (canaries among them) with
// each arm's figures and intervals, the decision in words, the always-valid p-value over
// time, and the operator's actions: start, pause, resume, stop. Uses dashboard.js' helpers.
"use strict";

const EXPERIMENT_STATUS = { running: "идёт", paused: "на паузе", stopped: "завершён" };
const OUTCOMES = {
  continue: "пока без решения", winner: "есть победитель", stop_arm: "вариант остановлен",
  no_difference: "разницы нет",
};
const ALPHA = 0.05;
const P_FLOOR = 1e-4;

function fixed(value, digits = 2) { return value === null || value === undefined ? "—" : Number(value).toFixed(digits); }
function percent(value) { return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`; }

// "4.20★ (+0.31 … от −0.02 до +0.64)": the arm's mean and its difference from the control
// with the always-valid interval.
function ratingCell(arm) {
  const mean = `${fixed(arm.mean_rating)}★`;
  const test = arm.rating_vs_control;
  if (!test) return arm.is_control ? `${mean} (контроль)` : mean;
  return `${mean} (${test.difference >= 0 ? "+" : ""}${fixed(test.difference)}; от ${fixed(test.low)} до ${fixed(test.high)})`;
}

function armsTable(experiment) {
  const figures = Object.fromEntries(((experiment.decision || {}).arms || []).map((a) => [a.arm, a]));
  const rows = experiment.arms.map((arm) => Object.assign({ name: arm.name, share: arm.share, stopped: arm.stopped_reason }, figures[arm.name] || {}));
  const node = el("table", { class: "arms" });
  const columns = [
    ["Вариант", (r) => r.name + (r.stopped ? " (остановлен)" : "")],
    ["Доля", (r) => `${Math.round(r.share * 100)} %`],
    ["Клиентов с оценкой", (r) => r.clients ?? 0],
    ["Средняя оценка (разница с контролем, интервал)", (r) => (r.clients ? ratingCell(r) : "—")],
    ["Негативных", (r) => percent(r.negative_share)],
    ["p", (r) => fixed(r.p_value, 3)],
    ["Довольны (оценки / по диалогу)", (r) => `${percent(r.satisfaction)} / ${percent(r.implicit_satisfaction)}`],
    ["Платно за ответ, $", (r) => fixed(r.paid_cost_per_answer_usd, 5)],
    ["p95, с", (r) => fixed(r.p95_latency_s)],
    ["Ответов", (r) => r.answers ?? 0],
  ];
  node.append(el("tr", {}, ...columns.map(([title]) => el("th", { text: title }))));
  rows.forEach((row) => node.append(el("tr", {}, ...columns.map(([, value]) => el("td", { text: String(value(row)) })))));
  return el("div", { class: "table-wrap" }, node);
}

function experimentActions(experiment) {
  const box = el("div", { class: "toolbar" });
  const action = (path, text, done) => {
    const button = el("button", { type: "button", class: path, text });
    button.addEventListener("click", async () => {
      const result = await guarded(() => operatorApi.call(`/api/voice/experiments/${experiment.id}/${path}`, { method: "POST" }));
      if (result) { await loadExperiments(); showStatus(done); }
    });
    return button;
  };
  if (experiment.status === "running") box.append(action("pause", "Пауза", "Эксперимент на паузе"));
  if (experiment.status === "paused") box.append(action("resume", "Продолжить", "Эксперимент продолжается"));
  if (experiment.status !== "stopped") box.append(action("stop", "Остановить", "Эксперимент остановлен"));
  return box;
}

// The always-valid p-value of each arm against the control, look by look (log scale).
async function pValueChart(experiment, canvas) {
  const looks = await guarded(() => operatorApi.call(`/api/voice/experiments/${experiment.id}/looks`));
  if (!looks || !looks.length) { canvas.replaceWith(el("p", { class: "muted", text: "Решение ещё ни разу не принималось." })); return; }
  const challengers = experiment.arms.filter((a) => !a.is_control).map((a) => a.name);
  const labels = looks.map((look) => new Date(look.created_at).toLocaleString("ru-RU"));
  const series = challengers.map((name, i) => ({
    label: `p «${name}»`, borderColor: COLORS[i], backgroundColor: COLORS[i], spanGaps: true,
    data: looks.map((look) => {
      const p = (look.arms.find((a) => a.arm === name) || {}).p_value;
      return p === null || p === undefined ? null : Math.max(p, P_FLOOR);  // drawn, not lost below the axis
    }),
  }));
  series.push({ label: `α = ${ALPHA}`, data: looks.map(() => ALPHA), borderColor: "#5b6b7c", borderDash: [6, 4], pointRadius: 0 });
  charts[`experiment-${experiment.id}`] = new Chart(canvas, {
    type: "line",
    data: { labels, datasets: series },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { type: "logarithmic", min: P_FLOOR, max: 1, title: { display: true, text: "p (всегда действительное)" } } } },
  });
}

function experimentCard(experiment) {
  const decision = experiment.decision || {};
  const kind = experiment.canary_version_id ? "канарейка" : (experiment.kind === "model" ? "модели" : "настройки");
  const card = el("article", { class: "card experiment", "data-experiment-id": experiment.id },
    el("h3", { text: `№${experiment.id} «${experiment.name}»` }),
    el("p", { class: "muted", text: `${kind} · ${EXPERIMENT_STATUS[experiment.status] || experiment.status} · начат ${new Date(experiment.created_at).toLocaleString("ru-RU")}`
      + (experiment.winner ? ` · победил «${experiment.winner}»` : "") }),
    el("p", { class: "decision", text: decision.reason ? `${OUTCOMES[decision.outcome] || decision.outcome}: ${decision.reason}` : "Решение ещё не принималось: воркер смотрит каждую минуту." }),
    armsTable(experiment));
  const canvas = el("canvas", { id: `experiment-chart-${experiment.id}` });
  card.append(el("figure", { class: "experiment-chart" }, el("figcaption", { text: "p-значение варианта против контроля по проверкам" }), canvas));
  card.append(experimentActions(experiment));
  pValueChart(experiment, canvas);
  return card;
}

async function loadExperiments() {
  const experiments = await guarded(() => operatorApi.call("/api/voice/experiments"));
  if (!experiments) return;
  Object.keys(charts).filter((id) => id.startsWith("experiment-")).forEach((id) => { charts[id].destroy(); delete charts[id]; });
  document.getElementById("ab").classList.toggle("hidden", experiments.length > 0);
  document.getElementById("experiments").replaceChildren(...experiments.map(experimentCard));
  await fillExperimentForm();
}

async function fillExperimentForm() {
  const settings = await guarded(() => operatorApi.call("/api/voice/experiments/settings"));
  const models = await guarded(() => operatorApi.call("/api/voice/models"));
  if (!settings || !models) return;
  document.getElementById("experiment-setting").replaceChildren(...settings.map((s) =>
    el("option", { value: s.name, text: `${s.name} (сейчас ${s.current})` })));
  document.getElementById("experiment-version").replaceChildren(...models.filter((m) => m.status !== "active").map((m) =>
    el("option", { value: String(m.id), text: `${m.name} (${STATUS_NAMES[m.status] || m.status})` })));
}

// "0.35" → 0.35, "true" → true: the server checks the value by the setting's own type.
function settingValue(text) {
  if (text === "true" || text === "false") return text === "true";
  const number = Number(text.replace(",", "."));
  return text.trim() !== "" && !Number.isNaN(number) ? number : text;
}

async function createExperiment(event) {
  event.preventDefault();
  const kind = document.getElementById("experiment-kind").value;
  const share = Number(document.getElementById("experiment-share").value) / 100;
  if (!(share > 0 && share < 1)) { showStatus("Доля нового варианта — число от 1 до 99 %."); return; }
  const challenger = { name: "новый", share, control: false };
  const control = { name: "как сейчас", share: Number((1 - share).toFixed(6)), control: true };
  if (kind === "config") {
    challenger.settings = { [document.getElementById("experiment-setting").value]: settingValue(document.getElementById("experiment-value").value) };
  } else {
    const active = ((await guarded(() => operatorApi.call("/api/voice/models"))) || []).find((m) => m.status === "active");
    control.model_version_id = active ? active.id : null;
    challenger.model_version_id = Number(document.getElementById("experiment-version").value) || null;
  }
  const body = { name: document.getElementById("experiment-name").value.trim(), kind, arms: [control, challenger] };
  const created = await guarded(() => operatorApi.call("/api/voice/experiments", { method: "POST", body: JSON.stringify(body) }));
  if (created) {
    document.getElementById("new-experiment").open = false;
    await loadExperiments();
    showStatus(`Эксперимент №${created.id} начат`);
  }
}

document.getElementById("experiment-kind").addEventListener("change", (event) => {
  document.getElementById("config-arm").classList.toggle("hidden", event.target.value !== "config");
  document.getElementById("model-arm").classList.toggle("hidden", event.target.value !== "model");
});
document.getElementById("experiment-form").addEventListener("submit", createExperiment);
document.getElementById("experiments-csv").addEventListener("click", () => guarded(() =>
  operatorApi.download("/api/voice/experiments?format=csv", "experiments.csv")));
