'use strict';
// @livechat/chat-sdk 0.2.0 against chatbridge, unmodified: it opens SockJS at
// https://api.livechatinc.com/v3.4/agent/rtm/sjs (hard-coded); redirect.js
// sends those connections to CHATBRIDGE_ADDR (TLS, NODE_EXTRA_CA_CERTS).
//
//   agent 2: chat-sdk init({access_token}) → login over SockJS
//   agent 1: lc-sdk-js Agent.Web starts a chat with a customer and agent 2,
//            sends an event; agent 2 must get incoming_chat / incoming_event
//   agent 2: sendMessage (send_event over SockJS) and methodFactory(list_chats)
//
// Prints one JSON line {"client":"chat-sdk","ok":…}; exits 1 with the reason
// on failure. See common.js for the environment.
const redirect = require('./redirect');
const ChatSDK = require('@livechat/chat-sdk');
const { Agent } = require('@livechat/lc-sdk-js');
const { env, fail, succeed, start, describe, must, check, Pushes } = require('./common');

start('chat-sdk');
const addr = env('CHATBRIDGE_ADDR');
const token1 = env('CHATBRIDGE_AGENT_TOKEN');
const token2 = env('CHATBRIDGE_AGENT2_TOKEN');

const PUSHES = ['incoming_chat', 'incoming_event', 'user_added_to_chat', 'chat_deactivated', 'incoming_customers',
  'routing_status_set', 'agent_disconnected'];

(async () => {
  const out = {};
  const sdk = new ChatSDK({ debug: !!process.env.CHATBRIDGE_NPM_DEBUG });
  const pushes = new Pushes('chat-sdk');
  for (const p of PUSHES) {
    sdk.on(p, (msg) => {
      pushes.record(p, msg && msg.payload);
      if (p === 'agent_disconnected') fail(`chat-sdk: server sent agent_disconnected ${describe(msg)}`);
    });
  }
  // What the SDK's transport reports (public emitters of the SDK object), for
  // the failure message: a login that is refused is only logged in debug mode.
  const frames = [];
  let destroying = false;
  sdk.platformEmitter.on('message', (m) => {
    if (frames.length < 20) frames.push(m);
    // The SDK swallows a refused login (it never emits "ready"): fail now.
    if (m && m.action === 'login' && m.type === 'response' && !m.success) fail(`chat-sdk login refused: ${describe(m)}`);
  });
  sdk.platformEmitter.on('disconnect', () => {
    if (!destroying) fail('chat-sdk: SockJS connection closed', { frames, requests: redirect.requests });
  });

  const ready = new Promise((resolve) => sdk.on('ready', resolve));
  sdk.init({ access_token: token2 });
  await must('chat-sdk init + login over SockJS', Promise.race([ready, new Promise((_, reject) => setTimeout(
    () => reject(`no "ready" within 8 s; frames received: ${JSON.stringify(frames)}; requests: ${JSON.stringify(redirect.requests)}`), 8000))]));
  // getAgentDetails resolves with the login response's payload.
  const login = await must('chat-sdk getAgentDetails', sdk.getAgentDetails());
  check(login && login.my_profile && typeof login.my_profile.id === 'string', 'login response: payload.my_profile.id missing', login);
  check(login.license && Array.isArray(login.chats_summary), 'login response: payload.license / chats_summary missing', login);
  const agent2ID = login.my_profile.id;
  out.my_profile = { id: agent2ID, name: login.my_profile.name };

  const lines = redirect.requests.map((r) => r.line);
  check(lines.some((l) => /^GET \/v3\.4\/agent\/rtm\/sjs\/info\b/.test(l)), 'no GET /v3.4/agent/rtm/sjs/info was sent', lines);
  check(lines.some((l) => /^GET \/v3\.4\/agent\/rtm\/sjs\/[^/]+\/[^/]+\/websocket\b/.test(l)), 'SockJS did not use the websocket transport', lines);
  out.requests = lines;

  // Agent 1 starts a chat with a customer and agent 2 through the Web API.
  const web = new Agent.Web('chatbridge-npm-test', () => ({ accessToken: token1, region: 'dal' }), { apiUrl: addr });
  const { customer_id: customerID } = await must('web create_customer', web.createCustomer({ name: 'SockJS Customer' }));
  const started = await must('web start_chat', web.startChat({
    chat: { users: [{ id: customerID, type: 'customer' }, { id: agent2ID, type: 'agent' }],
      thread: { events: [{ type: 'message', text: 'hello chat-sdk', visibility: 'all' }] } },
  }));
  const chatID = started.chat_id;
  out.chat_id = chatID;
  const inc = await pushes.wait('incoming_chat', (p) => p && p.chat && p.chat.id === chatID, `incoming_chat for ${chatID}`);
  check(Array.isArray(inc.chat.users) && inc.chat.users.some((u) => u.id === agent2ID), 'incoming_chat: chat.users lacks agent 2', inc);

  const sent = await must('web send_event', web.sendEvent(chatID, { type: 'message', text: 'to chat-sdk', visibility: 'all' }));
  const ev = await pushes.wait('incoming_event', (p) => p && p.chat_id === chatID && p.event && p.event.id === sent.event_id, `incoming_event ${sent.event_id}`);
  check(ev.event.text === 'to chat-sdk', 'incoming_event: event.text', ev);

  // Agent 2 writes through the SDK (send_event with 3.3's `recipients: "all"`).
  const mine = await must('chat-sdk sendMessage', sdk.sendMessage(chatID, 'reply from chat-sdk'));
  check(mine && typeof mine.event_id === 'string', 'sendMessage: event_id', mine);
  await pushes.wait('incoming_event', (p) => p && p.chat_id === chatID && p.event && p.event.id === mine.event_id, `incoming_event of its own message ${mine.event_id}`);
  const chat = await must('web get_chat', web.getChat(chatID));
  check(chat.thread.events.some((e) => e.id === mine.event_id && e.text === 'reply from chat-sdk' && e.author_id === agent2ID),
    'get_chat: the chat-sdk message is missing', chat.thread.events);

  const list = await must('chat-sdk methodFactory(list_chats)', sdk.methodFactory({ action: 'list_chats', payload: { limit: 5 } }));
  check(list && Array.isArray(list.chats_summary) && list.chats_summary.some((c) => c.id === chatID), 'list_chats: chats_summary lacks the chat', list);
  try {
    await sdk.methodFactory({ action: 'get_chat', payload: { chat_id: 'NO_SUCH_CHAT' } });
    fail('get_chat of an unknown chat succeeded');
  } catch (e) {
    const t = e && e.payload && e.payload.error && e.payload.error.type;
    check(typeof t === 'string', 'get_chat unknown: rejected with something other than the error response', e);
    out.not_found_error = t;
  }

  out.pushes = pushes.actions();
  destroying = true;
  sdk.destroy();
  succeed(out);
})().catch((e) => fail(e));
