const nodemailer = require('nodemailer');

console.log('notifier ready', typeof nodemailer.createTransport);
