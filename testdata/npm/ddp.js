'use strict';
// @rocket.chat/ddp-client 1.1.2 and simpleddp 2.2.4 against chatbridge's DDP
// endpoint (wss://CHATBRIDGE_ADDR/websocket), unmodified.
//
//   agent (ddp-client): DDPSDK.createAndConnect, loginWithPassword (SHA-256
//   digest), the start-up methods, streams (subscriptions-changed,
//   __my_messages__, the room), accepting chats, sendMessage, typing,
//   loadHistory, livechat:closeRoom; and its REST client (sdk.rest) with
//   the same login: me, rooms.get and subscriptions.get (updatedSince),
//   chat.sendMessage, chat.syncMessages, a JSON error.
//   visitor (simpleddp): livechat:registerGuest, the room streams with its
//   token, sendMessageLivechat to a room id it chose (the chat is created and
//   routed to the agent), the agent's message and typing as stream events.
//   agent again (simpleddp): login {resume} with ddp-client's token.
//
// Prints one JSON line {"client":"ddp","ok":…}; exits 1 with the reason on
// failure. Environment: CHATBRIDGE_ADDR, NODE_EXTRA_CA_CERTS (see common.js),
// CHATBRIDGE_DDP_USERNAME and CHATBRIDGE_DDP_PASSWORD (an agent's).
const crypto = require('crypto');
const WS = require('ws');
const { env, step, succeed, start, must, check, Pushes } = require('./common');

// ddp-client uses the browser's global WebSocket; Node 20 has none.
globalThis.WebSocket = WS;
const { DDPSDK } = require('@rocket.chat/ddp-client');
const SimpleDDP = require('simpleddp');

start('ddp');
const addr = env('CHATBRIDGE_ADDR');
const username = env('CHATBRIDGE_DDP_USERNAME');
const password = env('CHATBRIDGE_DDP_PASSWORD');
const sha256 = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const randomID = () => crypto.randomBytes(12).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 17);

// simpleddp connection whose stream events are recorded as "<collection> <eventName>".
async function simple(name) {
  const server = new SimpleDDP({ endpoint: `wss://${addr}/websocket`, SocketConstructor: WS, reconnectInterval: 60000, maxTimeout: 10000 });
  const events = new Pushes(name);
  server.on('changed', (m) => {
    if (m.collection && m.collection.startsWith('stream-') && m.fields) events.record(`${m.collection} ${m.fields.eventName}`, m.fields.args);
  });
  await must(`${name} connect (simpleddp)`, server.connect());
  return { server, events };
}

(async () => {
  // The agent, with ddp-client: connect, password digest login.
  const agent = await must('agent connect (ddp-client)', DDPSDK.createAndConnect(`https://${addr}`));
  await must('agent loginWithPassword (sha-256 digest)', agent.account.loginWithPassword(username, sha256(password)));
  const uid = agent.account.uid;
  check(typeof uid === 'string' && uid.length > 0, 'login gave no user id', agent.account);
  check(agent.account.user && agent.account.user.username === username, 'the users document did not name the agent', agent.account.user);
  const token = agent.account.user.token;

  // Its REST client (sdk.rest, @rocket.chat/api-client) signs requests with
  // the DDP login's X-User-Id / X-Auth-Token.
  const me = await must('rest GET /v1/me', agent.rest.get('/v1/me'));
  check(me.success === true && me._id === uid && me.username === username, 'rest /v1/me', me);
  const roomsAll = await must('rest GET /v1/rooms.get', agent.rest.get('/v1/rooms.get'));
  check(Array.isArray(roomsAll.update) && Array.isArray(roomsAll.remove), 'rest rooms.get', roomsAll);
  const beforeChat = new Date().toISOString();

  // What a client calls at start-up.
  const settings = await must('public-settings/get', agent.call('public-settings/get'));
  check(Array.isArray(settings) && settings.some((s) => s._id === 'Livechat_enabled' && s.value === true), 'public settings', settings);
  const perms = await must('permissions/get', agent.call('permissions/get'));
  check(Array.isArray(perms) && perms.some((p) => p._id === 'view-l-room'), 'permissions', perms);
  await must('subscriptions/get', agent.call('subscriptions/get'));
  await must('getUserRoles', agent.call('getUserRoles'));
  await must('UserPresence:setDefaultStatus', agent.call('UserPresence:setDefaultStatus', 'online'));

  const seen = new Pushes('agent');
  const subs = [
    agent.stream('notify-user', `${uid}/subscriptions-changed`, (...args) => seen.record('subscriptions-changed', args)),
    agent.stream('notify-user', `${uid}/rooms-changed`, (...args) => seen.record('rooms-changed', args)),
    agent.stream('room-messages', '__my_messages__', (...args) => seen.record('my-messages', args)),
  ];
  for (const s of subs) await must(`agent stream ${s.name} ready`, s.ready());
  await must('livechat:changeLivechatStatus available', agent.call('livechat:changeLivechatStatus', { status: 'available' }));

  // The visitor, with simpleddp: a token and a room id of its own.
  const { server: visitor, events: vseen } = await simple('visitor');
  const vtoken = randomID() + randomID();
  const rid = randomID();
  const guest = await must('livechat:registerGuest', visitor.call('livechat:registerGuest', { token: vtoken, name: 'NPM Visitor' }));
  check(guest && guest.userId && guest.visitor.token === vtoken, 'registerGuest', guest);
  const extra = { useCollection: false, args: [{ token: vtoken, visitorToken: vtoken }] };
  for (const [name, ev] of [['stream-room-messages', rid], ['stream-notify-room', `${rid}/user-activity`], ['stream-livechat-room', rid]]) {
    await must(`visitor sub ${name} ${ev}`, visitor.subscribe(name, ev, extra).ready());
  }
  const first = await must('sendMessageLivechat (new room)', visitor.call('sendMessageLivechat', { _id: randomID(), rid, msg: 'Hello from simpleddp', token: vtoken }));
  check(first.rid === rid && first.newRoom === true, 'sendMessageLivechat result', first);

  // The router gives the new chat to the agent, which hears it.
  await seen.wait('subscriptions-changed', (a) => a[0] === 'inserted' && a[1].rid === rid, 'the new room as subscriptions-changed inserted');
  await seen.wait('my-messages', (a) => a[0].rid === rid && a[0].msg === 'Hello from simpleddp', "the visitor's message on __my_messages__");
  await vseen.wait(`stream-livechat-room ${rid}`, (a) => a[0].type === 'agentData' && a[0].data._id === uid, 'agentData for the visitor');

  // Messages both ways and typing.
  const room = agent.stream('room-messages', rid, (msg) => seen.record('room', [msg]));
  await must('agent stream room-messages ready', room.ready());
  const mine = await must('sendMessage', agent.call('sendMessage', { _id: randomID(), rid, msg: 'Hello from ddp-client' }));
  check(mine && mine.rid === rid && mine.u._id === uid, 'sendMessage result', mine);
  await vseen.wait(`stream-room-messages ${rid}`, (a) => a[0].msg === 'Hello from ddp-client', "the agent's message at the visitor");
  await must('stream-notify-room user-activity', agent.call('stream-notify-room', `${rid}/user-activity`, username, ['user-typing'], {}));
  await vseen.wait(`stream-notify-room ${rid}/user-activity`, (a) => a[0] === username && a[1][0] === 'user-typing', "the agent's typing at the visitor");
  await must('sendMessageLivechat', visitor.call('sendMessageLivechat', { _id: randomID(), rid, msg: 'Thanks!', token: vtoken }));
  await seen.wait('room', (a) => a[0].msg === 'Thanks!', "the visitor's reply on the room stream");
  // REST on the same room: the delta lists it, a message sent over REST
  // reaches the visitor live, the sync shows both sides, errors are JSON.
  const delta = await must('rest GET /v1/rooms.get?updatedSince', agent.rest.get('/v1/rooms.get', { updatedSince: beforeChat }));
  check(delta.update.some((r) => r._id === rid), 'rooms.get updatedSince lists the new room', delta);
  const subsDelta = await must('rest GET /v1/subscriptions.get?updatedSince', agent.rest.get('/v1/subscriptions.get', { updatedSince: beforeChat }));
  check(subsDelta.update.some((s) => s.rid === rid), 'subscriptions.get updatedSince lists the subscription', subsDelta);
  const posted = await must('rest POST /v1/chat.sendMessage', agent.rest.post('/v1/chat.sendMessage', { message: { _id: randomID(), rid, msg: 'Sent over REST' } }));
  check(posted.success && posted.message.rid === rid, 'rest chat.sendMessage', posted);
  await vseen.wait(`stream-room-messages ${rid}`, (a) => a[0]._id === posted.message._id, 'the REST message at the visitor');
  const synced = await must('rest GET /v1/chat.syncMessages', agent.rest.get('/v1/chat.syncMessages', { roomId: rid, lastUpdate: beforeChat }));
  check(synced.result.updated.some((m) => m.msg === 'Thanks!') && synced.result.updated.some((m) => m._id === posted.message._id), 'rest chat.syncMessages', synced);
  step('rest GET /v1/chat.getMessage (unknown id)');
  const refused = await agent.rest.get('/v1/chat.getMessage', { msgId: 'noSuchMessage0001' }).then(() => null, (r) => r);
  check(refused && refused.status === 400, 'an unknown message is a 400', refused && refused.status);
  const body = await refused.json();
  check(body.success === false && typeof body.error === 'string', 'the 400 is a Rocket.Chat error body', body);

  const history = await must('loadHistory', agent.call('loadHistory', rid, null, 20, null));
  check(history.messages.length >= 5 && history.messages[0].msg === 'Sent over REST', 'loadHistory', history);

  // The same agent resumes with its token on another library.
  const { server: again, events: aseen } = await simple('agent-resume');
  const resumed = await must('login {resume} (simpleddp)', again.call('login', { resume: token }));
  check(resumed.id === uid && resumed.token === token, 'resume result', resumed);
  await must('agent-resume sub', again.subscribe('stream-room-messages', rid, false).ready());

  // Closing the room: both agent sessions and the visitor see livechat-close.
  await must('livechat:closeRoom', agent.call('livechat:closeRoom', rid, 'bye'));
  await vseen.wait(`stream-room-messages ${rid}`, (a) => a[0].t === 'livechat-close', 'livechat-close at the visitor');
  await aseen.wait(`stream-room-messages ${rid}`, (a) => a[0].t === 'livechat-close', 'livechat-close at the resumed session');
  await seen.wait('subscriptions-changed', (a) => a[0] === 'removed' && a[1].rid === rid, 'the subscription removed');

  // ddp-client itself resumes with the token, and logs out (the token is
  // then refused).
  const third = await must('agent-3 connect (ddp-client)', DDPSDK.createAndConnect(`https://${addr}`));
  const again3 = await must('agent-3 loginWithToken', third.account.loginWithToken(token));
  check(again3.id === uid && third.account.uid === uid, 'loginWithToken result', again3);
  const me3 = await must('agent-3 rest GET /v1/me', third.rest.get('/v1/me'));
  check(me3._id === uid, 'rest /v1/me after loginWithToken', me3);
  await must('agent-3 logout', third.account.logout());
  const fourth = await must('agent-4 connect (ddp-client)', DDPSDK.createAndConnect(`https://${addr}`));
  step('agent-4 loginWithToken (revoked)');
  const refusedLogin = await fourth.account.loginWithToken(token).then(() => null, (e) => e);
  check(refusedLogin && refusedLogin.error === 403, 'a logged-out token is refused with 403', refusedLogin);
  third.connection.close();
  fourth.connection.close();

  step('closing');
  agent.connection.close();
  visitor.disconnect();
  again.disconnect();
  succeed({ uid, rid, history: history.messages.length });
})();
