package jobs

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// UnusedUploads deletes, every hour, the uploads no event has used within
// livechat.UploadTTL (24 h) of their upload, as LiveChat does.
func UnusedUploads(svc *livechat.Service) Job {
	return Job{Name: "unused_uploads", Spec: "@every 1h", Run: func(ctx context.Context) error {
		_, err := svc.DeleteUnusedUploads(ctx)
		return err
	}}
}
