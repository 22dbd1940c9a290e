// Bar charts (ECharts, served from /static/vendor): every .bar-chart element with
// data-labels and data-values (JSON arrays) becomes one.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll(".bar-chart").forEach(function (el) {
    echarts.init(el).setOption({
      tooltip: {}, grid: {left: 40, right: 10, top: 10, bottom: 30},
      xAxis: {type: "category", data: JSON.parse(el.dataset.labels)},
      yAxis: {type: "value"},
      series: [{type: "bar", data: JSON.parse(el.dataset.values)}]
    });
  });
});
