package mongostore

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"mongodb://127.0.0.1:27017/":                        "mongodb://127.0.0.1:27017/",
		"mongodb://user:s3cret@db1:27017,db2:27017/?rs=x":   "mongodb://user:xxxxx@db1:27017,db2:27017/?rs=x",
		"mongodb+srv://user:p%40ss@cluster.example.net/app": "mongodb+srv://user:xxxxx@cluster.example.net/app",
		"mongodb://user@db/?authMechanism=MONGODB-X509":     "mongodb://user@db/?authMechanism=MONGODB-X509",
		"mongodb://db/?appName=a@b":                         "mongodb://db/?appName=a@b",
		"not a uri":                                         "not a uri",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
