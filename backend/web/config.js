// Settings for the web page, read by app.js. Edit this file when the page is deployed
// somewhere other than the backend itself (an S3 website bucket, say); query
// parameters (?api=...&player=...&mode=...&limit=...&refresh=...) override it.
//
//   apiBase:     the API's origin, e.g. "https://api.example.com" ("" = this page's origin)
//   player:      the player shown when the URL names none
//   mode:        the board shown by default ("" = all modes)
//   limit:       rows of the top list (1..100)
//   refreshSecs: seconds between refreshes of the matchmaking numbers
window.GLS_CONFIG = {
  apiBase: "",
  player: "",
  mode: "",
  limit: 10,
  refreshSecs: 5,
};
