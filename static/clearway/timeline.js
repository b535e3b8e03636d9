// Timeline bars are placed from data-left / data-width (percent of the range)
// here rather than by style="" attributes, which a Content Security Policy
// without 'unsafe-inline' for styles would drop (every bar at the left edge).
document.querySelectorAll(".timeline [data-left]").forEach((element) => {
  element.style.left = `${element.dataset.left}%`;
  if (element.dataset.width !== undefined) element.style.width = `${element.dataset.width}%`;
});
