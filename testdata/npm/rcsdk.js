'use strict';
// @rocket.chat/sdk 1.0.0-alpha.42 (installed as "rcsdk1") against chatbridge,
// unmodified: its three clients, each as a Rocket.Chat integrator uses them.
//
//   DDPDriver: password login with the SHA-256 digest the SDK computes.
//   Rocketchat (agent): REST login, then the same token resumed over DDP;
//     availability, stream-notify-user, the room streams, REST
//     chat.sendMessage, legacy typing, REST chat.syncMessages (loadHistory).
//   Bot (the same agent): reactToMessages on __my_messages__, sendToRoomId.
//   Livechat (visitor): REST livechat/config, livechat/visitor, livechat/room
//     (the chat is created and routed to the agent), DDP setUpConnection and
//     the room streams with its token, REST livechat/message, agent.info,
//     messages.history, edit and delete of its own message, typing, and
//     room.close, which the agent sees as livechat-close.
//
// Prints one JSON line {"client":"rcsdk","ok":…}; exits 1 with the reason on
// failure. Environment: CHATBRIDGE_ADDR, NODE_EXTRA_CA_CERTS (see common.js),
// CHATBRIDGE_DDP_USERNAME and CHATBRIDGE_DDP_PASSWORD (an agent's).
const crypto = require('crypto');
const { env, step, succeed, start, must, check, Pushes } = require('./common');
const { Rocketchat, Livechat, Bot } = require('rcsdk1');
const { DDPDriver } = require('rcsdk1/lib/drivers/ddp');

start('rcsdk');
const addr = env('CHATBRIDGE_ADDR');
const username = env('CHATBRIDGE_DDP_USERNAME');
const password = env('CHATBRIDGE_DDP_PASSWORD');
const randomID = () => crypto.randomBytes(12).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 17);

// The SDK logs every frame at info level; keep its output for debugging only.
const quiet = { debug() {}, info() {}, warn() {}, warning() {}, error: (...a) => step('sdk error', a.join(' ')) };
const host = `https://${addr}`;

(async () => {
  // DDPDriver alone: connect and the password-digest login.
  const driver = new DDPDriver({ host: addr, useSsl: true, logger: quiet });
  await must('DDPDriver connect', driver.connect());
  const digest = await must('DDPDriver login (sha-256 digest)', driver.login({ username, password }));
  check(digest && digest.id && digest.token && digest.tokenExpires, 'digest login result', digest);
  await must('DDPDriver disconnect', driver.disconnect());

  // The agent: REST login, resumed over DDP by the client itself.
  const agent = new Rocketchat({ host, useSsl: true, protocol: 'ddp', logger: quiet });
  await must('agent connect', agent.connect({}));
  const login = await must('agent login (REST, then DDP resume)', agent.login({ username, password }));
  check(login && login.id === digest.id && login.token, 'resume login result', login);
  const uid = login.id;
  await must('livechat:changeLivechatStatus available', agent.methodCall('livechat:changeLivechatStatus', { status: 'available' }));
  const seen = new Pushes('agent');
  await must('agent subscribeNotifyUser', agent.subscribeNotifyUser());
  await must('agent onStreamData stream-notify-user', agent.onStreamData('stream-notify-user', (m) => seen.record(m.fields.eventName, m.fields.args)));

  // The same agent as a Bot client: __my_messages__ through reactToMessages.
  const bot = new Bot({ host, useSsl: true, protocol: 'ddp', logger: quiet });
  await must('bot connect', bot.connect({}));
  await must('bot login', bot.login({ username, password }));
  const bseen = new Pushes('bot');
  await must('bot reactToMessages', bot.reactToMessages((err, msg) => { if (!err) bseen.record('my', msg); }));

  // The visitor: configuration, registration, a room.
  const visitor = new Livechat({ host, useSsl: true, protocol: 'ddp', logger: quiet });
  const config = await must('visitor config', visitor.config({}));
  check(config && config.enabled === true && config.online === true, 'livechat/config says enabled and online', config);
  const vtoken = randomID() + randomID();
  const guest = await must('visitor grantVisitor', visitor.grantVisitor({ visitor: { token: vtoken, name: 'RC SDK Visitor' } }));
  check(guest.token === vtoken && guest.username, 'the visitor', guest);
  const room = await must('visitor room', visitor.room());
  check(room && room._id && room.t === 'l', 'livechat/room', room);
  const rid = room._id;
  await seen.wait(`${uid}/subscriptions-changed`, (a) => a[0] === 'inserted' && a[1].rid === rid, 'the routed room as subscriptions-changed inserted');
  const rooms = await must('agent rooms/get (DDP)', agent.methodCall('rooms/get'));
  check(Array.isArray(rooms) && rooms.some((r) => r._id === rid && r.t === 'l'), 'rooms/get lists the room', rooms);
  const listed = await must('agent GET rooms.get (REST)', agent.get('rooms.get', {}, true));
  check(listed.update.some((r) => r._id === rid), 'REST rooms.get lists the room', listed);
  const served = await must('visitor agent info', visitor.agent({ rid }));
  check(served && served._id === uid, 'agent.info names the serving agent', served);

  // Both sides on the room's streams.
  await must('visitor connect (DDP + livechat:setUpConnection)', visitor.connect({}));
  await must('visitor subscribeRoom', visitor.subscribeRoom(rid));
  const vseen = new Pushes('visitor');
  await must('visitor onMessage', visitor.onMessage((msg) => vseen.record('message', msg)));
  await must('visitor onTyping', visitor.onTyping((who, typing) => vseen.record('typing', [who, typing])));
  await must('agent subscribeRoom', agent.subscribeRoom(rid));
  await must('agent onMessage', agent.onMessage((msg) => seen.record('message', msg)));
  // The Rocketchat client has no onTyping; its stream listener gives the frame.
  await must('agent onStreamData stream-notify-room', agent.onStreamData('stream-notify-room', (m) => {
    if (m.fields.eventName === `${rid}/typing`) seen.record('typing', m.fields.args);
  }));

  // Messages both ways, typing both ways.
  const first = randomID();
  const sent = await must('visitor sendMessage (REST livechat/message)', visitor.sendMessage({ _id: first, rid, msg: 'Hello from @rocket.chat/sdk' }));
  check(sent.message && sent.message._id === first, 'livechat/message result', sent);
  await seen.wait('message', (m) => m._id === first && m.ts instanceof Date, "the visitor's message at the agent");
  await bseen.wait('my', (m) => m._id === first && m.rid === rid, "the visitor's message at the bot client (__my_messages__)");
  const botSent = await must('bot sendToRoomId (REST chat.sendMessage)', bot.sendToRoomId('A reply through the Bot client', rid));
  await vseen.wait('message', (m) => m._id === botSent._id && m.msg === 'A reply through the Bot client', "the bot client's message at the visitor");
  const reply = await must('agent sendMessage (REST chat.sendMessage)', agent.sendMessage({ msg: 'Hi, how can I help?' }, rid));
  check(reply && reply.rid === rid && reply.u._id === uid, 'chat.sendMessage result', reply);
  await vseen.wait('message', (m) => m._id === reply._id && m.msg === 'Hi, how can I help?', "the agent's message at the visitor");
  await must('visitor notifyVisitorTyping', visitor.notifyVisitorTyping(rid, guest.username, true));
  await seen.wait('typing', (a) => a[0] === guest.username && a[1] === true, "the visitor's typing at the agent");
  await must('agent typing (stream-notify-room)', agent.methodCall('stream-notify-room', `${rid}/typing`, username, true));
  await vseen.wait('typing', (a) => a[0] === username && a[1] === true, "the agent's typing at the visitor");

  // The visitor sends a file (REST livechat/upload, multipart with x-visitor-token).
  const up = await must('visitor uploadFile', visitor.uploadFile({ rid, file: new Blob(['order #1001'], { type: 'text/plain' }) }));
  check(up && up.message && up.message.file && up.message.rid === rid, 'livechat/upload result', up);
  await seen.wait('message', (m) => m._id === up.message._id && m.file, 'the file message at the agent');

  // The visitor edits and deletes its own message; reads history.
  const second = randomID();
  await must('visitor sendMessage 2', visitor.sendMessage({ _id: second, rid, msg: 'A typo hre' }));
  await must('visitor editMessage', visitor.editMessage(second, { rid, msg: 'A typo here', token: vtoken }));
  await seen.wait('message', (m) => m._id === second && m.msg === 'A typo here' && m.editedAt, 'the edit at the agent');
  const got = await must('visitor message', visitor.message(second, { rid }));
  check(got && got.msg === 'A typo here', 'livechat/message/:id', got);
  await must('visitor deleteMessage', visitor.deleteMessage(second, { rid }));
  const history = await must('visitor loadMessages', visitor.loadMessages(rid));
  const hids = history.map((m) => m._id);
  check(hids.includes(first) && hids.includes(reply._id) && !hids.includes(second), 'messages.history after the delete', hids);

  // The agent syncs the room over REST (chat.syncMessages).
  const sync = await must('agent loadHistory (REST chat.syncMessages)', agent.loadHistory(rid, new Date(Date.now() - 3600e3)));
  check(sync.updated.some((m) => m._id === first) && sync.deleted.some((m) => m._id === second), 'chat.syncMessages', sync);

  // The visitor closes the chat; the agent sees livechat-close.
  await must('visitor closeChat (REST livechat/room.close)', visitor.closeChat({ rid }));
  await seen.wait('message', (m) => m.rid === rid && m.t === 'livechat-close', 'livechat-close at the agent');
  await seen.wait(`${uid}/subscriptions-changed`, (a) => a[0] === 'removed' && a[1].rid === rid, 'the subscription removed');

  step('closing');
  await visitor.disconnect();
  await bot.disconnect();
  await agent.disconnect();
  succeed({ uid, rid, history: hids.length, synced: sync.updated.length });
})();
