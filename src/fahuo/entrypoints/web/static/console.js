// Console behaviour that once lived in inline attributes (the CSP allows only files from
// this site).
document.addEventListener("DOMContentLoaded", function () {
  var scan = document.getElementById("scan-form");
  if (scan) {
    // after each scan the box is empty and focused for the next parcel
    scan.addEventListener("htmx:afterRequest", function () { scan.reset(); scan.code.focus(); });
  }
});
