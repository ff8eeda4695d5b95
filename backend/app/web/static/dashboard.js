// The dashboard: quality and cost over time (Chart.js, vendored), model versions with the
// actions an operator takes on them, training datasets. Everything comes from the API.
"use strict";

const charts = {};
const COLORS = ["#1f6f5c", "#e0a100", "#9a3b12", "#3b6fb6", "#7a4fa3"];


function query() {
  return `bucket=${document.getElementById("bucket").value}&days=${document.getElementById("days").value}`;
}

function lineChart(id, labels, series, options = {}) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), {
    type: options.type || "line",
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label, data: s.data, borderColor: COLORS[i], backgroundColor: COLORS[i],
        spanGaps: true, tension: 0.2, stack: options.stacked ? "all" : undefined,
      })),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, max: options.max, stacked: options.stacked },
                x: { stacked: options.stacked } },
    },
  });
}

async function loadMetrics() {
  const body = await guarded(() => operatorApi.call(`/api/voice/metrics/timeseries?${query()}`));
  if (!body) return;
  const points = body.points;
  const t = body.totals;
  document.getElementById("no-data").classList.toggle("hidden", points.length > 0);
  document.getElementById("charts").classList.toggle("hidden", points.length === 0);
  document.getElementById("totals").textContent = points.length
    ? `Вопросов: ${t.interactions}, оценено: ${t.rated}, средняя оценка: ${t.avg_rating ?? "—"} `
      + `(по клиентам: ${t.clients?.avg_rating ?? "—"}, оценивших клиентов: ${t.clients?.rated_clients ?? 0}), `
      + `без переспросов и оператора: ${t.implicit_satisfaction === null ? "—" : Math.round(t.implicit_satisfaction * 100) + "%"}, `
      + `расходы: $${t.cost_usd.toFixed(4)}, экономия: $${t.estimated_savings_usd.toFixed(4)}`
    : "";
  if (!points.length) return;
  const labels = points.map((p) => p.period_start.slice(0, 10));
  const pick = (name, scale = 1) => points.map((p) => (p[name] === null ? null : p[name] * scale));
  lineChart("chart-quality", labels, [
    { label: "средняя оценка", data: pick("avg_rating") },
    { label: "средняя оценка по клиентам", data: points.map((p) => p.clients?.avg_rating ?? null) },
    { label: "довольны (4–5★), ×5", data: pick("satisfaction", 5) },
    { label: "недовольны (1–2★), ×5", data: pick("negative_share", 5) },
    { label: "доля оценённых, ×5", data: pick("rating_coverage", 5) },
    { label: "не переспросили и не звали оператора, ×5", data: pick("implicit_satisfaction", 5) },
  ], { max: 5 });
  lineChart("chart-sources", labels, [
    { label: "проверенный ответ", data: pick("cache_share") },
    { label: "локальная модель", data: pick("local_share") },
    { label: "платная модель", data: pick("paid_share") },
  ], { type: "bar", stacked: true, max: 1 });
  lineChart("chart-cost", labels, [
    { label: "расходы", data: pick("cost_usd") },
    { label: "оценка экономии", data: pick("estimated_savings_usd") },
  ]);
  lineChart("chart-time", labels, [
    { label: "p50", data: pick("p50_response_time") },
    { label: "p95", data: pick("p95_response_time") },
  ]);
}

function table(id, columns, rows, empty) {
  const node = document.getElementById(id);
  node.replaceChildren();
  if (!rows.length) {
    node.append(el("tr", {}, el("td", { class: "empty", text: empty })));
    return;
  }
  node.append(el("tr", {}, ...columns.map((c) => el("th", { text: c.title }))));
  rows.forEach((row) => node.append(el("tr", {}, ...columns.map((c) => {
    const cell = el("td");
    const value = c.render ? c.render(row) : row[c.key];
    if (value instanceof Node) cell.append(value); else cell.textContent = value ?? "—";
    return cell;
  }))));
}

const STATUS_NAMES = { active: "активна", candidate: "кандидат", retired: "в архиве", rejected: "отклонена" };

async function loadModels() {
  const models = await guarded(() => operatorApi.call("/api/voice/models"));
  if (!models) return;
  table("models", [
    { title: "Версия", key: "name" },
    { title: "Статус", render: (m) => STATUS_NAMES[m.status] || m.status },
    { title: "Базовая модель", key: "base_model" },
    { title: "Loss", render: (m) => (m.metrics.last_loss ?? m.metrics.train_loss ?? "—") },
    { title: "Создана", render: (m) => new Date(m.created_at).toLocaleString("ru-RU") },
    { title: "", render: (m) => {
      if (m.status === "active") return "";
      const button = el("button", { type: "button", class: "activate", text: "Включить" });
      button.addEventListener("click", () => act(`/api/voice/models/${m.id}/activate`, `Модель ${m.name} включена`));
      return button;
    } },
  ], models, "Локальных моделей пока нет: их создаёт переобучение.");
}

async function loadDatasets() {
  const datasets = await guarded(() => operatorApi.call("/api/voice/training-datasets"));
  if (!datasets) return;
  table("datasets", [
    { title: "Выгрузка", key: "dataset_name" },
    { title: "Примеров", key: "total_samples" },
    { title: "Статус", key: "status" },
    { title: "Убрано очисткой", render: (d) => Object.entries(d.removed).map(([k, v]) => `${k}: ${v}`).join(", ") || "—" },
    { title: "Создана", render: (d) => new Date(d.created_at).toLocaleString("ru-RU") },
    { title: "", render: (d) => {
      if (!d.file_available) return "файла нет";
      const link = el("button", { type: "button", text: "Скачать" });
      link.addEventListener("click", () => guarded(() => operatorApi.download(
        `/api/voice/training-datasets/${d.id}/download`, `${d.dataset_name}.jsonl`)));
      return link;
    } },
  ], datasets, "Выгрузок пока нет.");
}

async function act(path, done, options = { method: "POST" }) {
  const result = await guarded(() => operatorApi.call(path, options));
  if (result) {
    await loadModels();
    showStatus(done);
  }
  return result;
}

async function evaluateNow() {
  const box = document.getElementById("evaluation");
  box.textContent = "Оцениваем…";
  const result = await guarded(() => operatorApi.call("/api/voice/evaluations", { method: "POST" }));
  if (!result) { box.textContent = ""; return; }
  box.textContent = result.empty
    ? "Оценивать пока нечего: нет вопросов и золотого набора."
    : `Модель ${result.model_version}: средняя оценка ${result.avg_rating ?? "—"}, `
      + `точность на золотом наборе ${result.accuracy_score ?? "—"}`
      + (result.requires_retraining ? `; нужно переобучение: ${result.reasons.join("; ")}` : "");
  await loadMetrics();
}

async function start() {
  await loadMetrics();
  await loadModels();
  await loadDatasets();
  await loadExperiments();  // dashboard_experiments.js
}

document.getElementById("bucket").addEventListener("change", loadMetrics);
document.getElementById("days").addEventListener("change", loadMetrics);
document.getElementById("evaluate").addEventListener("click", evaluateNow);
document.getElementById("retrain").addEventListener("click", async () => {
  const run = await guarded(() => operatorApi.call("/api/voice/retraining", {
    method: "POST", body: JSON.stringify({ reason: "запрошено с панели" }) }));
  if (run) showStatus(`Переобучение №${run.id} поставлено в очередь (воркер: python -m deploy.worker).`);
});
document.getElementById("rollback").addEventListener("click", () => act("/api/voice/models/rollback", "Возвращена предыдущая модель"));
document.getElementById("metrics-csv").addEventListener("click", () => guarded(() =>
  operatorApi.download(`/api/voice/metrics/timeseries?format=csv&${query()}`, "metrics.csv")));
document.getElementById("datasets-csv").addEventListener("click", () => guarded(() =>
  operatorApi.download("/api/voice/training-datasets?format=csv", "training_datasets.csv")));
document.getElementById("models-csv").addEventListener("click", () => guarded(() =>
  operatorApi.download("/api/voice/models?format=csv", "models.csv")));

document.addEventListener("DOMContentLoaded", () => setUpLogin(start));
