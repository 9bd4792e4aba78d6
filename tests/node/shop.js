// The routes both test apps serve, as a shop backend would: a checkout logs one line with the app's
// logger and one with a child logger; with ?together=1 two requests (two sessions) are in flight at once.
'use strict';

let waiting = [];
function together() {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (waiting.length === 2) { waiting.forEach((go) => go()); waiting = []; }
  });
}

module.exports = function shop(app, logger, payments) {
  app.get('/', (req, res) => res.send('ok'));
  app.get('/checkout', async (req, res) => {
    logger.error(`checkout failed for cart ${req.query.cart}`);
    if (req.query.together) await together();
    payments.error('card declined');
    res.status(402).send('declined');
  });
};
