// An Express shop backend as a user writes it, logging with pino through the module
// `orx-elastic instrument node-express-pino` printed (its path is argv[2]), shipped by
// pino-elasticsearch; prints its port when it listens.
'use strict';
const { openReplayMiddleware, openReplayPinoOptions } = require(process.argv[2]);
const express = require('express');
const shop = require('./shop');
const pino = require('pino');
const pinoElasticsearch = require('pino-elasticsearch');

const destination = pinoElasticsearch({
  node: process.env.ES_URL, index: process.env.ES_INDEX, opType: 'create', esVersion: 8, flushInterval: 500,
  auth: { apiKey: process.env.ES_API_KEY },
});
destination.on('insertError', (error) => console.error(`pino-elasticsearch: ${error.message}`));
destination.on('error', (error) => console.error(`pino-elasticsearch: ${error.message}`));
const logger = pino(openReplayPinoOptions({ level: 'info' }), destination);
const payments = logger.child({ module: 'payments' });

const app = express();
app.use(openReplayMiddleware({ logger }));
shop(app, logger, payments);
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
