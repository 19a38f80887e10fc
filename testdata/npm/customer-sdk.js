'use strict';
// @livechat/customer-sdk 4.0.2 against chatbridge, unmodified. The SDK's
// host is hard-coded (wss://api.livechatinc.com/v3.5/customer/rtm/ws) and it
// uses the browser's global WebSocket, so a subclass of `ws` that keeps the
// path and query but dials CHATBRIDGE_ADDR stands in for it; its token comes
// from an identityProvider that asks chatbridge's POST /v2/customer/token (as
// @livechat/customer-auth would); a no-op global Image swallows the SDK's
// Graylog beacon. The agent side is @livechat/lc-sdk-js (Agent.RTM, accepting
// chats, and Agent.Web to answer). A second customer then uses the customer
// side of @livechat/lc-sdk-js (Customer.RTM and Customer.Web, API 3.4).
//
//   customer: connect/login, startChat → routed to the agent → the agent's
//   answer arrives as incoming_event; sendEvent, the read methods, a sneak
//   peek the agent sees, deactivateChat.
//
// Prints one JSON line {"client":"customer-sdk","ok":…}; exits 1 with the
// reason on failure. See common.js for the environment.
const https = require('https');
const WS = require('ws');
const { Agent, Customer } = require('@livechat/lc-sdk-js');
const { env, step, fail, succeed, start, describe, must, check, Pushes } = require('./common');

start('customer-sdk');
const addr = env('CHATBRIDGE_ADDR');
const agentToken = env('CHATBRIDGE_AGENT_TOKEN');
const org = env('CHATBRIDGE_ORGANIZATION_ID');

// The browser globals the SDK expects.
globalThis.WebSocket = class extends WS {
  constructor(url, protocols) {
    const u = new URL(url);
    step(`WebSocket ${u.host}${u.pathname}${u.search} → wss://${addr}`);
    super(`wss://${addr}${u.pathname}${u.search}`, protocols);
  }
};
globalThis.Image = class {
  set src(_) {}
};
const CustomerSDK = require('@livechat/customer-sdk');

// postJSON posts body as customer-auth does (JSON sent as text/plain).
function postJSON(path, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const [host, port] = addr.split(':');
    const req = https.request({ host, port, path, method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let buf = '';
      res.on('data', (c) => (buf += c));
      res.on('end', () => {
        try {
          const json = JSON.parse(buf);
          if (res.statusCode !== 200) reject(new Error(`POST ${path}: ${res.statusCode} ${buf}`));
          else resolve(json);
        } catch (e) {
          reject(new Error(`POST ${path}: ${res.statusCode} ${buf}`));
        }
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

// identityProvider gets one customer token from chatbridge and hands it out.
function identityProvider() {
  let token = null;
  const fetchToken = async () => {
    const r = await postJSON('/v2/customer/token', { response_type: 'token', grant_type: 'cookie', client_id: 'npm-customer-sdk',
      organization_id: org, redirect_uri: 'https://shop.example.com/page' });
    token = { accessToken: r.access_token, entityId: r.entity_id, expiresIn: r.expires_in * 1000, tokenType: r.token_type,
      creationDate: Date.now(), organizationId: org };
    step('customer token', { entityId: token.entityId, expiresIn: token.expiresIn });
    return token;
  };
  return () => ({
    getToken: async () => token || fetchToken(),
    getFreshToken: fetchToken,
    hasToken: async () => token !== null,
    invalidate: async () => { token = null; },
  });
}

const AGENT_PUSHES = ['incoming_chat', 'incoming_event', 'incoming_sneak_peek', 'chat_deactivated', 'user_added_to_chat', 'customer_updated'];
const CUSTOMER_EVENTS = ['incoming_chat', 'incoming_event', 'user_added_to_chat', 'user_data', 'chat_deactivated', 'customer_updated',
  'incoming_typing_indicator', 'availability_updated', 'queue_position_updated', 'events_marked_as_seen'];

(async () => {
  const out = { organization_id: org };

  // The agent: Agent.RTM, accepting chats.
  const agent = new Agent.RTM({ apiUrl: addr });
  const agentPushes = new Pushes('agent');
  for (const p of AGENT_PUSHES) agent.on(p, (payload) => agentPushes.record(p, payload));
  await must(`agent connect wss://${addr}/v3.4/agent/rtm/ws`, agent.connect());
  const agentLogin = await must('agent login', agent.login('Bearer ' + agentToken));
  const agentID = agentLogin.my_profile.id;
  await must('agent set_routing_status accepting_chats', agent.send('set_routing_status', { status: 'accepting_chats' }));
  const web = new Agent.Web('npm-customer-sdk', () => ({ accessToken: agentToken, region: 'dal' }), { apiUrl: addr });

  // The customer: connected as soon as it is made.
  const sdk = CustomerSDK.init({ organizationId: org, clientId: 'npm-customer-sdk', identityProvider: identityProvider() });
  const customerEvents = new Pushes('customer');
  for (const ev of CUSTOMER_EVENTS) sdk.on(ev, (payload) => customerEvents.record(ev, payload));
  sdk.on('disconnected', (payload) => fail(`customer-sdk disconnected: ${describe(payload)}`));
  const connected = await new Promise((resolve) => sdk.once('connected', resolve));
  step('customer connected', { customer: connected.customer, availability: connected.availability });
  check(connected.customer && typeof connected.customer.id === 'string', 'connected: customer.id', connected);
  check(connected.customer.statistics && typeof connected.customer.statistics.chatsCount === 'number', 'connected: customer.statistics', connected.customer);
  check(connected.availability === 'online', 'connected: availability (the agent accepts chats)', connected.availability);
  const customerID = connected.customer.id;
  out.customer_id = customerID;

  // startChat resolves with the incoming_chat that carries its request id.
  const started = await must('customer startChat', sdk.startChat({ chat: { thread: { events: [{ type: 'message', text: 'hello from customer-sdk' }] } } }));
  check(started.chat && typeof started.chat.id === 'string', 'startChat: chat.id', started);
  check(started.chat.thread && started.chat.thread.events.some((e) => e.text === 'hello from customer-sdk'), 'startChat: chat.thread.events', started.chat);
  const chatID = started.chat.id;
  const threadID = started.chat.thread.id;
  out.chat_id = chatID;

  // Routed to the agent, who answers over the Web API; the customer gets it.
  await agentPushes.wait('incoming_chat', (p) => p.chat && p.chat.id === chatID, `incoming_chat ${chatID} (routed)`);
  await customerEvents.wait('user_added_to_chat', (p) => p.chatId === chatID && p.user.id === agentID, 'user_added_to_chat (the agent)');
  const answer = await must('agent web send_event', web.sendEvent(chatID, { type: 'message', text: 'Hello from the agent', visibility: 'all' }));
  const got = await customerEvents.wait('incoming_event', (p) => p.chatId === chatID && p.event && p.event.id === answer.event_id, `incoming_event ${answer.event_id}`);
  check(got.event.text === 'Hello from the agent' && got.event.authorId === agentID, 'customer incoming_event: text/authorId', got);

  // sendEvent resolves with the customer's own incoming_event.
  const sent = await must('customer sendEvent', sdk.sendEvent({ chatId: chatID, event: { type: 'message', text: 'thanks!' } }));
  check(sent && sent.text === 'thanks!' && sent.authorId === customerID, 'sendEvent: the event', sent);
  await agentPushes.wait('incoming_event', (p) => p.chat_id === chatID && p.event && p.event.text === 'thanks!', 'the customer\'s message');

  // A sneak peek reaches the agent.
  sdk.setSneakPeek({ chatId: chatID, sneakPeekText: 'one more thi' });
  const sp = await agentPushes.wait('incoming_sneak_peek', (p) => p.chat_id === chatID, 'incoming_sneak_peek');
  check(sp.sneak_peek && sp.sneak_peek.text === 'one more thi', 'incoming_sneak_peek: text', sp);

  // The read methods and the customer's own data.
  const chat = await must('customer getChat', sdk.getChat({ chatId: chatID }));
  check(chat.id === chatID && chat.thread && chat.thread.events.length >= 3, 'getChat: thread.events', chat);
  const list = await must('customer listChats', sdk.listChats({ limit: 5 }));
  check(list.chatsSummary.length === 1 && list.chatsSummary[0].id === chatID && list.chatsSummary[0].active === true, 'listChats: chatsSummary', list);
  const threads = await must('customer listThreads', sdk.listThreads({ chatId: chatID }));
  check(threads.threads.length === 1 && threads.threads[0].id === threadID, 'listThreads: threads', threads);
  const history = await must('customer getChatHistory().next()', sdk.getChatHistory({ chatId: chatID }).next());
  check(history.value && history.value.threads.length === 1, 'getChatHistory: threads', history);
  await must('customer updateCustomer', sdk.updateCustomer({ name: 'NPM Customer', email: 'npm.customer@example.com', sessionFields: { plan: 'gold' } }));
  await customerEvents.wait('customer_updated', (p) => p.name === 'NPM Customer', 'customer_updated');
  const me = await must('customer getCustomer', sdk.getCustomer());
  check(me.id === customerID && me.name === 'NPM Customer' && me.sessionFields.plan === 'gold', 'getCustomer: profile', me);
  const form = await must('customer getForm prechat', sdk.getForm({ groupId: 0, type: 'prechat' }));
  check(form.enabled === true && form.form && form.form.fields.length > 0, 'getForm: fields', form);
  const predicted = await must('customer getPredictedAgent', sdk.getPredictedAgent({ groupId: 0 }));
  check(predicted.agent && predicted.agent.id === agentID, 'getPredictedAgent: the agent', predicted);
  const statuses = await must('customer listGroupStatuses', sdk.listGroupStatuses());
  check(statuses['0'] === 'online', 'listGroupStatuses: group 0', statuses);
  const info = await must('customer getUrlInfo', sdk.getUrlInfo({ url: 'https://www.example.com/cat.png' }));
  check(info.url === 'https://www.example.com/cat.png' && typeof info.imageUrl === 'string', 'getUrlInfo', info);
  await must('customer markEventsAsSeen', sdk.markEventsAsSeen({ chatId: chatID, seenUpTo: new Date(Date.now() + 1000).toISOString() }));
  await must('customer rateChat', sdk.rateChat({ chatId: chatID, rating: { score: 1, comment: 'quick' } }));
  try {
    await sdk.cancelGreeting({ uniqueId: 'nope' });
    fail('cancelGreeting of an unknown greeting succeeded');
  } catch (e) {
    out.cancel_greeting_error = e.code;
    check(e.code === 'GREETING_NOT_FOUND', 'cancelGreeting: error code', e);
  }

  // The customer closes the chat.
  // (4.0.2 resolves deactivateChat with nothing: its response parser has no case for it.)
  await must('customer deactivateChat', sdk.deactivateChat({ id: chatID }));
  await customerEvents.wait('chat_deactivated', (p) => p.chatId === chatID, 'chat_deactivated');
  await agentPushes.wait('chat_deactivated', (p) => p.chat_id === chatID, 'the agent\'s chat_deactivated');

  out.customer_events = customerEvents.actions();
  out.agent_pushes = agentPushes.actions();
  sdk.destroy();

  // The customer side of @livechat/lc-sdk-js (API 3.4): Customer.RTM over
  // wss://…/v3.4/customer/rtm/ws?organization_id=…, Customer.Web with GET
  // for the widget's read calls and POST for the rest.
  const second = await must('second customer token', postJSON('/v2/customer/token', { response_type: 'token', grant_type: 'cookie',
    client_id: 'npm-lc-sdk-js', organization_id: org }));
  const crtm = new Customer.RTM(org, { apiUrl: addr });
  const cpushes = new Pushes('lc-sdk-js customer');
  for (const p of ['incoming_chat', 'incoming_event', 'user_added_to_chat', 'chat_deactivated']) crtm.on(p, (payload) => cpushes.record(p, payload));
  await must(`lc-sdk-js customer connect wss://${addr}/v3.4/customer/rtm/ws`, crtm.connect());
  const clogin = await must('lc-sdk-js customer login', crtm.login('Bearer ' + second.access_token));
  check(clogin.customer && clogin.customer.id === second.entity_id && Array.isArray(clogin.chats), 'lc-sdk-js customer login', clogin);
  const cweb = new Customer.Web('npm-lc-sdk-js', () => ({ accessToken: second.access_token, region: 'dal', organizationID: org }), { apiUrl: addr });
  const dyn = await must('lc-sdk-js customer web get_dynamic_configuration (GET)', cweb.getDynamicConfiguration({ group_id: 0 }));
  check(dyn.organization_id === org && Array.isArray(dyn.online_group_ids), 'get_dynamic_configuration', dyn);
  const st = await must('lc-sdk-js customer rtm start_chat', crtm.startChat({ chat: { thread: { events: [{ type: 'message', text: 'hi from lc-sdk-js' }] } } }));
  check(typeof st.chat_id === 'string' && typeof st.thread_id === 'string', 'lc-sdk-js start_chat', st);
  await cpushes.wait('incoming_chat', (p) => p.chat && p.chat.id === st.chat_id, 'lc-sdk-js incoming_chat');
  const wev = await must('lc-sdk-js customer web send_event', cweb.sendEvent(st.chat_id, { type: 'message', text: 'via the Web API' }));
  await cpushes.wait('incoming_event', (p) => p.event && p.event.id === wev.event_id, 'lc-sdk-js incoming_event of the Web call');
  const wchat = await must('lc-sdk-js customer web get_chat', cweb.getChat(st.chat_id));
  check(wchat.id === st.chat_id && wchat.thread.events.some((e) => e.id === wev.event_id), 'lc-sdk-js get_chat', wchat);
  try {
    await cweb.getChat(chatID); // the first customer's chat
    fail('lc-sdk-js: another customer read the chat');
  } catch (e) {
    check(e && e.type === 'not_found', 'another customer\'s chat: error type', e);
    out.other_customer_error = e.type;
  }
  out.lc_sdk_js_customer_pushes = cpushes.actions();
  clearInterval(crtm.heartbeatInterval);
  crtm.socket.close();
  clearInterval(agent.heartbeatInterval);
  agent.socket.close();
  succeed(out);
})().catch((e) => fail(e));
