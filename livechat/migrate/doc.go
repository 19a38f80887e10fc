// Package migrate reads and writes the LiveChat migration format: what a
// LiveChat customer can download from LiveChat's own public APIs, so that
// someone leaving LiveChat can feed chatbridge what they fetched, and a
// chatbridge export can be read by LiveChat tooling. ExportLiveChat and
// ImportLiveChat are run by the chatbridge CLI (the Rocket.Chat format lives
// in package bridge).
//
// A migration directory holds four files:
//
//   - groups.json: a JSON array of Configuration API list_groups items with
//     agent_priorities: {id, name, language_code, agent_priorities:
//     {<agent id>: "first"|"normal"|"last"|"supervisor"}}.
//   - agents.json: a JSON array of Configuration API get_agent/list_agents
//     items (3.5, every field: id, account_id, name, role, avatar,
//     login_status, job_title, mobile, max_chats_count, groups, …), and bots
//     as list_bots/get_bot items (id, name, avatar, groups,
//     default_group_priority, owner_client_id, …).
//   - customers.json: a JSON array of Agent Chat API customer objects as
//     get_customer returns them in 3.5 (id, type, name, email, avatar,
//     session_fields, last_visit, statistics, created_at, …).
//   - chats.jsonl: one chat per line: the 3.5 chat object (id, users,
//     properties, access) with "threads", every 3.5 thread object of the chat
//     (id, active, user_ids, events, properties, access, tags, created_at,
//     previous_thread_id, next_thread_id, queue) oldest first, each with all
//     of its events (message, system_message, file, form, filled_form,
//     rich_message, custom). Lines are read up to 64 MiB each.
//
// Export writes the shapes with the renderers of package livechat/api, so the
// files look exactly like chatbridge's own API answers. Times are LiveChat's
// RFC 3339 with microseconds; the store keeps milliseconds.
//
// chatbridge extensions, fields LiveChat's objects do not have (LiveChat
// tooling ignores them; import reads them when present):
//
//   - agents: "username" (the Rocket.Chat login name); "account_id" is
//     written for bots too (agents have it in 3.5).
//   - bots in agents.json: "kind": "bot" and "login_status" (accepting chats,
//     not accepting chats, offline). On import an item is a bot when its kind
//     is "bot" or its id is 32 hex digits (a list_bots item). A bot without
//     login_status (list_bots has none) is imported not accepting chats, so
//     nothing is routed to it before its integration sets its status.
//   - customers: "banned_until", while a ban lasts.
//   - threads: "closed_at" on inactive threads. Without it, import takes the
//     time of the thread's last event.
//
// Import reads groups, agents, customers and chats in that order, through
// livechat.Service's Import* operations: ids and times are kept, a record
// whose id is already in the store is skipped, so an import that stopped can
// be run again, and no domain events are emitted. An agent without "groups"
// gets its memberships from the groups' agent_priorities. A chat given in the
// get_chat shape (one "thread") is accepted too; events may carry
// "thread_id" (as webhook payloads do), which must then name their thread,
// and ≤3.3's "recipients" is read as "visibility". A bad record stops the
// import with an error naming the file, the item or line, and the reason.
//
// What has no counterpart is counted in the report's Dropped, never lost
// silently:
//
//   - export: agent passwords and bot secrets (credentials: set them again),
//     which agent owns a bot and bot-template marks, chat and customer
//     followers (LiveChat objects show only is_followed/followed), the
//     continuous flag of chats, tag definitions (list_tags is not part of the
//     format; thread tags are kept).
//   - import: last_visit.geolocation, greetings statistics,
//     notification and e-mail subscription values chatbridge does not know,
//     agent_priorities naming agents missing from agents.json, chat users
//     who are agents neither in agents.json nor in the store (agents deleted
//     in LiveChat: list_agents no longer returns them; their events are
//     kept, with their author ids), threads given with restricted_access
//     instead of events.
//
// Customer statistics (chats_count, …) are kept as given, not recounted. A
// get_customer "chat_ids" list is neither written nor needed.
package migrate
