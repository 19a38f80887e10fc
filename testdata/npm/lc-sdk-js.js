'use strict';
// @livechat/lc-sdk-js 4.0.2 against chatbridge, unmodified: Agent.RTM over
// wss://CHATBRIDGE_ADDR/v3.4/agent/rtm/ws and Agent.Web over
// https://CHATBRIDGE_ADDR/v3.4/agent/action/<method> (the SDK forces TLS and
// v3.4; NODE_EXTRA_CA_CERTS makes Node trust the test certificate).
//
//   agent 1: RTM login with "Bearer <token>", Web API calls
//   agent 2: RTM login with the bare token, member of the chat agent 1 starts
//
// Prints one JSON line {"client":"lc-sdk-js","ok":…}; exits 1 with the reason
// on failure. See common.js for the environment.
const { Agent } = require('@livechat/lc-sdk-js');
const { env, step, fail, succeed, start, describe, must, check, Pushes } = require('./common');

start('lc-sdk-js');
const addr = env('CHATBRIDGE_ADDR');
const token1 = env('CHATBRIDGE_AGENT_TOKEN');
const token2 = env('CHATBRIDGE_AGENT2_TOKEN');
const org = env('CHATBRIDGE_ORGANIZATION_ID', false);
const webOnly = process.env.CHATBRIDGE_NPM_WEB_ONLY === '1';

// Push names recorded on each socket (the SDK dispatches only subscribed ones).
const PUSHES = ['incoming_chat', 'incoming_event', 'user_added_to_chat', 'user_removed_from_chat', 'chat_deactivated',
  'incoming_customers', 'incoming_customer', 'customer_updated', 'routing_status_set', 'events_marked_as_seen',
  'chat_properties_updated', 'thread_properties_updated', 'thread_tagged', 'incoming_typing_indicator',
  'incoming_multicast', 'chat_access_updated', 'chat_transferred', 'agent_disconnected'];

// rtm opens an Agent.RTM socket and records its pushes; agent_disconnected fails the run.
async function rtm(name) {
  const r = new Agent.RTM({ apiUrl: addr });
  const pushes = new Pushes(name);
  for (const p of PUSHES) {
    r.on(p, (payload) => {
      pushes.record(p, payload);
      if (p === 'agent_disconnected') fail(`${name}: server sent agent_disconnected ${describe(payload)}`);
    });
  }
  await must(`${name} connect wss://${addr}/v3.4/agent/rtm/ws`, r.connect());
  r.socket.on('close', (code, reason) => {
    if (!r.closing) fail(`${name}: socket closed by the server (${code} ${reason})`);
  });
  return { r, pushes, close: () => { r.closing = true; clearInterval(r.heartbeatInterval); r.socket.close(); } };
}

// rtmError runs a call that must be rejected and returns the error type.
async function rtmError(what, promise) {
  step(what);
  try {
    const v = await promise;
    fail(`${what}: succeeded with ${describe(v)}, want an error`);
  } catch (e) {
    const t = e && e.error && e.error.type;
    check(typeof t === 'string', `${what}: rejected with ${describe(e)}, want a payload {"error":{"type",…}}`);
    return t;
  }
}

function checkLogin(name, login) {
  check(login && typeof login === 'object', `${name} login: no payload`, login);
  check(login.license && typeof login.license === 'object', `${name} login: payload.license missing`, login);
  check(login.my_profile && typeof login.my_profile.id === 'string', `${name} login: payload.my_profile.id missing`, login);
  check(Array.isArray(login.chats_summary), `${name} login: payload.chats_summary is not an array`, login);
}

(async () => {
  const out = { organization_id: org, web_only: webOnly };
  const web = new Agent.Web('chatbridge-npm-test', () => ({ accessToken: token1, region: 'dal' }), { apiUrl: addr });

  let a1, a2, agent2ID;
  if (!webOnly) {
    // Anything but login/ping before login is refused with `authentication`.
    const pre = await rtm('rtm0');
    out.before_login_error = await rtmError('rtm0 list_chats before login', pre.r.listChats({ limit: 1 }));
    check(out.before_login_error === 'authentication', 'list_chats before login: error type', out.before_login_error);
    pre.close();

    a1 = await rtm('rtm1');
    const login1 = await must('rtm1 login("Bearer …")', a1.r.login('Bearer ' + token1));
    checkLogin('rtm1', login1);
    out.license = login1.license;
    out.my_profile = { id: login1.my_profile.id, name: login1.my_profile.name, type: login1.my_profile.type };
    // The heartbeat the SDK sends every 10 s, sent now: {"request_id","action":"ping"} must be answered.
    await must('rtm1 ping', a1.r.send('ping', undefined));

    a2 = await rtm('rtm2');
    const login2 = await must('rtm2 login(bare token)', a2.r.login(token2));
    checkLogin('rtm2', login2);
    agent2ID = login2.my_profile.id;
    check(agent2ID !== login1.my_profile.id, 'the two tokens log in the same agent', agent2ID);
  }

  // Web API (lc-sdk-js sends POST /v3.4/agent/action/<method> with Bearer and X-Region).
  const { customer_id: customerID } = await must('web create_customer', web.createCustomer({ name: 'NPM Customer', email: 'npm.customer@example.com' }));
  check(typeof customerID === 'string' && customerID !== '', 'create_customer: customer_id', customerID);
  const cust = await must('web get_customer', web.getCustomer(customerID));
  check(cust.id === customerID && cust.name === 'NPM Customer', 'get_customer: id/name', cust);

  const users = [{ id: customerID, type: 'customer' }];
  if (agent2ID) users.push({ id: agent2ID, type: 'agent' });
  const started = await must('web start_chat', web.startChat({
    chat: { users, thread: { events: [{ type: 'message', text: 'hello from lc-sdk-js', visibility: 'all' }] } },
  }));
  const chatID = started.chat_id;
  check(typeof chatID === 'string' && typeof started.thread_id === 'string', 'start_chat: chat_id/thread_id', started);
  out.chat_id = chatID;

  if (!webOnly) {
    for (const a of [a1, a2]) {
      const p = await a.pushes.wait('incoming_chat', (p) => p.chat && p.chat.id === chatID, `incoming_chat for ${chatID}`);
      check(p.chat.thread && Array.isArray(p.chat.thread.events) && p.chat.thread.events.some((e) => e.text === 'hello from lc-sdk-js'),
        `${a.pushes.name} incoming_chat: chat.thread.events lacks the first message`, p);
      check(Array.isArray(p.chat.users) && p.chat.users.some((u) => u.id === customerID), `${a.pushes.name} incoming_chat: chat.users lacks the customer`, p);
    }
  }

  const sent = await must('web send_event', web.sendEvent(chatID, { type: 'message', text: 'second, via Web', visibility: 'all' }));
  check(typeof sent.event_id === 'string', 'send_event: event_id', sent);
  if (!webOnly) {
    for (const a of [a1, a2]) {
      const p = await a.pushes.wait('incoming_event', (p) => p.chat_id === chatID && p.event && p.event.id === sent.event_id, `incoming_event ${sent.event_id}`);
      check(p.event.text === 'second, via Web' && typeof p.thread_id === 'string', `${a.pushes.name} incoming_event payload`, p);
    }
  }

  const chat = await must('web get_chat', web.getChat(chatID));
  check(chat.id === chatID && chat.thread && Array.isArray(chat.thread.events), 'get_chat: id/thread.events', chat);
  check(chat.thread.events.some((e) => e.id === sent.event_id), 'get_chat: thread.events lacks the sent event', chat.thread.events);

  const list = await must('web list_chats', web.listChats({ limit: 5 }));
  check(Array.isArray(list.chats_summary) && list.chats_summary.some((c) => c.id === chatID), 'list_chats: chats_summary lacks the chat', list);
  const threads = await must('web list_threads', web.listThreads(chatID));
  check(Array.isArray(threads.threads) && threads.threads.length >= 1, 'list_threads: threads', threads);

  // Errors come back as the SDK expects them: it throws response.data.error.
  try {
    await web.getChat('NO_SUCH_CHAT');
    fail('web get_chat of an unknown chat succeeded');
  } catch (e) {
    check(e && typeof e.type === 'string' && typeof e.message === 'string', 'web get_chat unknown: thrown value is not {type,message}', e);
    out.web_not_found_error = e.type;
  }

  if (!webOnly) {
    // The same methods over RTM; agent 2 writes, agent 1 gets the push.
    const rsent = await must('rtm2 send_event', a2.r.sendEvent(chatID, { type: 'message', text: 'third, via RTM', visibility: 'all' }));
    check(typeof rsent.event_id === 'string', 'rtm send_event: event_id', rsent);
    await a1.pushes.wait('incoming_event', (p) => p.chat_id === chatID && p.event && p.event.id === rsent.event_id, `incoming_event ${rsent.event_id} from agent 2`);
    const rchat = await must('rtm1 get_chat', a1.r.getChat(chatID));
    check(rchat.id === chatID, 'rtm get_chat: id', rchat);
    const rlist = await must('rtm1 list_chats', a1.r.listChats({ limit: 5 }));
    check(Array.isArray(rlist.chats_summary) && rlist.chats_summary.some((c) => c.id === chatID), 'rtm list_chats: chats_summary lacks the chat', rlist);
    out.rtm_not_found_error = await rtmError('rtm1 get_chat unknown', a1.r.getChat('NO_SUCH_CHAT'));
    out.pushes = { rtm1: a1.pushes.actions(), rtm2: a2.pushes.actions() };
    a1.close();
    a2.close();
  }
  succeed(out);
})().catch((e) => fail(e));
