// Console behaviour that once lived in inline attributes (the CSP allows only files from
// this site). The scan station's own behaviour is in scan.js.
