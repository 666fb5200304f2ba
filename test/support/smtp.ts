/** A real SMTP server in the test process, which parses each message it receives. */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface TestSmtpServer {
  url: string;
  port: number;
  messages: ParsedMail[];
  /** Resolves when `count` messages have arrived in all. */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Accounts whose user name and password the server accepts (AUTH over plain text, for tests). */
  users?: Record<string, string>;
}

export function startSmtpServer(port = 0, options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (options.users && auth.username !== undefined && options.users[auth.username] === auth.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          waiters.splice(0).forEach((wake) => wake());
          callback();
        })
        .catch(callback);
    },
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `smtp://127.0.0.1:${actualPort}`,
        port: actualPort,
        messages,
        waitFor(count, timeoutMs = 5000) {
          return new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`only ${messages.length} of ${count} messages arrived`)), timeoutMs);
            const check = () => {
              if (messages.length >= count) {
                clearTimeout(timer);
                done(messages);
              } else waiters.push(check);
            };
            check();
          });
        },
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
