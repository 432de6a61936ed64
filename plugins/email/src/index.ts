import { defineConnector } from '@roster/plugin-sdk';
import { sendEmail } from './actions/send-email.js';
import { testConnection } from './actions/test-connection.js';
import { connection } from './connection.js';

export default defineConnector({
  id: 'email',
  name: 'Email (SMTP)',
  version: '1.0.0',
  description: 'Sends email through an SMTP server.',
  capabilities: { smtp: { purpose: 'Send email through the SMTP server of the connection' } },
  connection,
  actions: { sendEmail, testConnection },
});
