package api

// CustomerPublicMethods are the Customer Web API methods a widget may call
// before it has a customer token (LiveChat documents them without
// Authorization): their handlers never look at the caller.
var CustomerPublicMethods = map[string]bool{
	"get_dynamic_configuration": true,
	"get_configuration":         true,
	"get_localization":          true,
	"list_license_properties":   true,
	"list_group_properties":     true,
}

// CustomerTable is the Customer Chat API (3.3–3.5). login and ping belong
// to the RTM session (rtm.CustomerLogin); upload_file's multipart body is
// read by the Web transport.
func CustomerTable() *Table {
	return NewTable(
		// Chats.
		Method{Name: "start_chat", Handler: customerStartChat},
		Method{Name: "resume_chat", Handler: customerResumeChat},
		Method{Name: "deactivate_chat", Handler: customerDeactivateChat},
		Method{Name: "list_chats", Handler: customerListChats, ReadOnly: true},
		Method{Name: "list_threads", Handler: customerListThreads, ReadOnly: true},
		Method{Name: "get_chat", Handler: customerGetChat, ReadOnly: true},
		Method{Name: "send_event", Handler: customerSendEvent},
		Method{Name: "upload_file", Handler: customerUploadFile, WebOnly: true},
		Method{Name: "send_rich_message_postback", Handler: sendRichMessagePostback},
		Method{Name: "send_sneak_peek", Handler: customerSendSneakPeek},
		Method{Name: "mark_events_as_seen", Handler: markEventsAsSeen},
		Method{Name: "update_chat_properties", Handler: propertyMethod("chat", false)},
		Method{Name: "delete_chat_properties", Handler: propertyMethod("chat", true)},
		Method{Name: "update_thread_properties", Handler: propertyMethod("thread", false)},
		Method{Name: "delete_thread_properties", Handler: propertyMethod("thread", true)},
		Method{Name: "update_event_properties", Handler: propertyMethod("event", false)},
		Method{Name: "delete_event_properties", Handler: propertyMethod("event", true)},
		// The customer.
		Method{Name: "get_customer", Handler: customerGetCustomer, ReadOnly: true},
		Method{Name: "update_customer", Handler: customerUpdateCustomer},
		Method{Name: "set_customer_session_fields", Handler: customerSetSessionFields},
		Method{Name: "update_customer_page", Handler: customerUpdatePage, RTMOnly: true},
		Method{Name: "request_email_verification", Handler: customerRequestEmailVerification, WebOnly: true},
		// Groups, agents, greetings, goals.
		Method{Name: "list_group_statuses", Handler: customerListGroupStatuses, ReadOnly: true},
		Method{Name: "get_predicted_agent", Handler: customerGetPredictedAgent},
		Method{Name: "accept_greeting", Handler: customerAcceptGreeting},
		Method{Name: "cancel_greeting", Handler: customerCancelGreeting},
		Method{Name: "check_goals", Handler: customerCheckGoals, WebOnly: true},
		// The widget.
		Method{Name: "get_form", Handler: customerGetForm, ReadOnly: true},
		Method{Name: "get_url_info", Handler: customerGetURLInfo},
		Method{Name: "get_dynamic_configuration", Handler: customerGetDynamicConfiguration, ReadOnly: true, WebOnly: true},
		Method{Name: "get_configuration", Handler: customerGetConfiguration, ReadOnly: true, WebOnly: true},
		Method{Name: "get_localization", Handler: customerGetLocalization, ReadOnly: true, WebOnly: true},
		Method{Name: "list_license_properties", Handler: customerListLicenseProperties, ReadOnly: true, WebOnly: true},
		Method{Name: "list_group_properties", Handler: customerListGroupProperties, ReadOnly: true, WebOnly: true},
	)
}
