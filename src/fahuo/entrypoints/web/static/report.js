// 数据分析 charts (ECharts from /static/vendor): each .report-chart has data-kind (line | bar),
// data-labels (JSON array) and data-series (JSON array of {name, values}).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll(".report-chart").forEach(function (el) {
    var kind = el.dataset.kind, series = JSON.parse(el.dataset.series);
    var chart = echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: {trigger: "axis"},
      legend: series.length > 1 ? {top: 0} : undefined,
      grid: {left: 50, right: 16, top: series.length > 1 ? 30 : 10, bottom: 40},
      xAxis: {type: "category", data: JSON.parse(el.dataset.labels),
              axisLabel: {interval: kind === "bar" ? 0 : "auto", rotate: kind === "bar" ? 20 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: series.map(function (s) {
        return {name: s.name, type: kind, data: s.values, smooth: false, showSymbol: true};
      })
    });
    el.dataset.rendered = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
