// Progressive enhancement only: every page works without this file (WEB.md).
// It lives in a file, not an inline script, so the Content-Security-Policy needs no
// 'unsafe-inline'.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
