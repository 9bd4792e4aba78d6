// An Express shop backend logging with winston through the module `orx-elastic instrument
// node-express-winston` printed (its path is argv[2]), to the file LOG_FILE (what a shipper reads);
// prints its port when it listens.
'use strict';
const { openReplayMiddleware, openReplayFormat } = require(process.argv[2]);
const express = require('express');
const shop = require('./shop');
const winston = require('winston');

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(openReplayFormat(), winston.format.json()),
  transports: [new winston.transports.File({ filename: process.env.LOG_FILE })],
});
const payments = logger.child({ module: 'payments' });

const app = express();
app.use(openReplayMiddleware({ logger }));
shop(app, logger, payments);
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
