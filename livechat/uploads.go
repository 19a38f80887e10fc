package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image sizes of uploads
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
)

// MaxUploadSize is upload_file's limit: 10 MB, as LiveChat.
const MaxUploadSize = 10 << 20

// FilesPathPrefix is the URL path under which the HTTP server serves uploads:
// FilesPathPrefix + <id> + "/" + <name>.
const FilesPathPrefix = "/files/"

// FileInfo describes an uploaded file.
type FileInfo struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	UploaderID  string    `json:"uploader_id"`
	CreatedAt   time.Time `json:"created_at"`
	// UsedAt is when an event first named the file. An upload with
	// Expires that no event names is deleted UploadTTL after CreatedAt;
	// files stored before uploads expired have no Expires and are kept.
	UsedAt  *time.Time `json:"used_at,omitempty"`
	Expires bool       `json:"expires,omitempty"`
}

// UploadTTL is how long an uploaded file no event uses is kept: LiveChat
// deletes such files after 24 hours.
const UploadTTL = 24 * time.Hour

// Path is the URL path the file is served at.
func (f *FileInfo) Path() string { return FilesPathPrefix + f.ID + "/" + url.PathEscape(f.Name) }

// FileStore keeps uploaded files; Config.Files. Implementations are safe for
// concurrent use.
type FileStore interface {
	// Put stores the bytes of r as file info.ID, with info as its description,
	// and sets info.Size (and Width and Height for images it can measure).
	// When r fails, nothing is kept and Put returns r's error.
	Put(ctx context.Context, info *FileInfo, r io.Reader) error
	// Stat describes a stored file; ErrNotFound when there is none.
	Stat(ctx context.Context, id string) (*FileInfo, error)
	// Open returns a stored file's description and content.
	Open(ctx context.Context, id string) (*FileInfo, io.ReadCloser, error)
	// MarkUsed records that an event names file id (once; later calls
	// keep the first time).
	MarkUsed(ctx context.Context, id string, at time.Time) error
	// DeleteUnused deletes the expiring files never marked used that were
	// created before before, and says how many it deleted.
	DeleteUnused(ctx context.Context, before time.Time) (int, error)
}

// errTooLarge is the upload reader's error past MaxUploadSize.
var errTooLarge = errors.New("livechat: upload too large")

// capReader fails once more than max bytes have been read.
type capReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errTooLarge
	}
	return n, err
}

// headBuffer keeps the first bytes that pass through it.
type headBuffer struct {
	buf bytes.Buffer
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

var executableExt = map[string]bool{
	"exe": true, "com": true, "bat": true, "cmd": true, "msi": true, "msp": true, "scr": true, "pif": true,
	"cpl": true, "dll": true, "sys": true, "vbs": true, "vbe": true, "jse": true, "wsf": true, "wsh": true,
	"ps1": true, "psm1": true, "sh": true, "bash": true, "csh": true, "ksh": true, "app": true, "apk": true,
	"jar": true, "deb": true, "rpm": true, "run": true, "elf": true, "so": true, "dylib": true, "reg": true,
	"lnk": true, "hta": true, "gadget": true, "inf": true, "scf": true, "action": true, "command": true,
}

var executableMagic = [][]byte{
	[]byte("MZ"),             // Windows PE
	[]byte("\x7fELF"),        // ELF
	{0xfe, 0xed, 0xfa, 0xce}, // Mach-O
	{0xfe, 0xed, 0xfa, 0xcf}, // Mach-O 64
	{0xce, 0xfa, 0xed, 0xfe}, // Mach-O, little endian
	{0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64, little endian
	{0xca, 0xfe, 0xba, 0xbe}, // Mach-O universal, Java class
	[]byte("#!"),             // scripts
}

// isExecutable recognizes executables by name and by their first bytes.
func isExecutable(name string, head []byte) bool {
	if ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")); executableExt[ext] {
		return true
	}
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// cleanFileName keeps a file name's last element, without control characters
// or separators, at most 255 bytes.
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	for len(name) > 255 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xc0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// UploadFile stores an uploaded file (upload_file) and describes it. Any
// agent or customer may upload; files over MaxUploadSize are refused with
// entity_too_large, executables with validation. The file's URL path is
// FileInfo.Path; the transport makes it absolute.
func (s *Service) UploadFile(ctx context.Context, actor Actor, name, contentType string, r io.Reader) (*FileInfo, error) {
	if !actor.IsAgent() && !actor.IsCustomer() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Not allowed to upload files")
	}
	if s.cfg.Files == nil {
		return nil, Errorf(TypeServiceUnavailable, "File uploads are not enabled on this server")
	}
	name = cleanFileName(name)
	// Read the first bytes to recognize executables and sniff the type.
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, Errorf(TypeValidation, "the file could not be read")
	}
	head = head[:n]
	if isExecutable(name, head) {
		return nil, Errorf(TypeValidation, "Executable files are not allowed")
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt != "application/octet-stream" {
		contentType = mt
	} else {
		contentType, _, _ = strings.Cut(http.DetectContentType(head), ";")
	}
	info := &FileInfo{ID: newSecret(16), Name: name, ContentType: contentType, UploaderID: actor.ID, CreatedAt: s.now(), Expires: true}
	body := &capReader{r: io.MultiReader(bytes.NewReader(head), r), max: MaxUploadSize}
	if err := s.cfg.Files.Put(ctx, info, body); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, Errorf(TypeEntityTooLarge, "Upload limit exceeded (10MB)")
		}
		return nil, fmt.Errorf("livechat: store upload: %w", err)
	}
	return info, nil
}

// imageSize reads an image's dimensions from its first bytes.
func imageSize(contentType string, head []byte) (int, int) {
	if !strings.HasPrefix(contentType, "image/") {
		return 0, 0
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
}

// OpenFile returns an uploaded file by id. Upload URLs are capabilities
// (their ids are random), so no actor is asked for.
func (s *Service) OpenFile(ctx context.Context, id string) (*FileInfo, io.ReadCloser, error) {
	if s.cfg.Files == nil {
		return nil, nil, notFound("File")
	}
	info, rc, err := s.cfg.Files.Open(ctx, id)
	if err != nil {
		return nil, nil, storeErr(err, "File")
	}
	return info, rc, nil
}

// fileRefRe finds our upload URLs (FilesPathPrefix + id + "/") in an event.
var fileRefRe = regexp.MustCompile(regexp.QuoteMeta(FilesPathPrefix) + `([A-Za-z0-9_-]{8,64})/`)

// describeFile fills a file event's name, type and size and image size
// from the upload its URL names, when it names one of ours, and marks every
// upload the event names (file URL, rich message images, …) as used, so
// the upload expiry keeps it.
func (s *Service) describeFile(ctx context.Context, e *Event) {
	s.markUploadsUsed(ctx, e)
	if e.Type != EventFile || s.cfg.Files == nil {
		return
	}
	u, err := url.Parse(e.URL)
	if err != nil || !strings.HasPrefix(u.Path, FilesPathPrefix) {
		return
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(u.Path, FilesPathPrefix), "/")
	info, err := s.cfg.Files.Stat(ctx, id)
	if err != nil {
		return
	}
	if e.Name == "" {
		e.Name = info.Name
	}
	if e.ContentType == "" {
		e.ContentType = info.ContentType
	}
	if e.Size == 0 {
		e.Size = info.Size
	}
	if e.Width == 0 && e.Height == 0 {
		e.Width, e.Height = info.Width, info.Height
	}
}

// markUploadsUsed marks every upload event e names (file URL, rich message
// images, custom content) as used, so the upload expiry keeps it.
func (s *Service) markUploadsUsed(ctx context.Context, e *Event) {
	if s.cfg.Files == nil || e.Type != EventFile && e.Type != EventRichMessage && e.Type != EventCustom {
		return
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	for _, m := range fileRefRe.FindAllSubmatch(raw, 8) {
		if err := s.cfg.Files.MarkUsed(ctx, string(m[1]), s.now()); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Warn("upload not marked used", "file", string(m[1]), "err", err)
		}
	}
}

// DeleteUnusedUploads deletes the uploads no event has named within
// UploadTTL of their upload (the upload-expiry job).
func (s *Service) DeleteUnusedUploads(ctx context.Context) (int, error) {
	if s.cfg.Files == nil {
		return 0, nil
	}
	return s.cfg.Files.DeleteUnused(ctx, s.now().Add(-UploadTTL))
}

// DirFileStore is a FileStore on a directory: <id> holds a file's bytes and
// <id>.json its description. Writes go to a temporary file renamed into
// place, so a reader never sees half a file.
type DirFileStore struct {
	dir string
	mu  sync.Mutex // orders MarkUsed's read-modify-write of a description
}

var fileIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// NewDirFileStore returns a FileStore rooted at dir, creating it.
func NewDirFileStore(dir string) (*DirFileStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("livechat: files directory: %w", err)
	}
	return &DirFileStore{dir: dir}, nil
}

func (d *DirFileStore) paths(id string) (data, meta string, err error) {
	if !fileIDRe.MatchString(id) {
		return "", "", fmt.Errorf("file %q: %w", id, ErrNotFound)
	}
	return filepath.Join(d.dir, id), filepath.Join(d.dir, id+".json"), nil
}

// Put implements FileStore. It also records the image size of images.
func (d *DirFileStore) Put(_ context.Context, info *FileInfo, r io.Reader) (err error) {
	data, meta, err := d.paths(info.ID)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.dir, ".upload-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	head := &headBuffer{max: 256 << 10}
	n, err := io.Copy(io.MultiWriter(tmp, head), r)
	if err != nil {
		return err
	}
	info.Size = n
	info.Width, info.Height = imageSize(info.ContentType, head.buf.Bytes())
	if err = tmp.Close(); err != nil {
		return err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err = os.WriteFile(meta, b, 0o640); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), data); err != nil {
		os.Remove(meta)
		return err
	}
	return nil
}

// Stat implements FileStore.
func (d *DirFileStore) Stat(_ context.Context, id string) (*FileInfo, error) {
	_, meta, err := d.paths(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(meta)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("file %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var info FileInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Open implements FileStore.
func (d *DirFileStore) Open(ctx context.Context, id string) (*FileInfo, io.ReadCloser, error) {
	info, err := d.Stat(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	data, _, _ := d.paths(id)
	f, err := os.Open(data)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("file %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	return info, f, nil
}

// MarkUsed implements FileStore.
func (d *DirFileStore) MarkUsed(ctx context.Context, id string, at time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	info, err := d.Stat(ctx, id)
	if err != nil || info.UsedAt != nil {
		return err
	}
	at = at.UTC()
	info.UsedAt = &at
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, meta, _ := d.paths(id)
	tmp := meta + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, meta)
}

// DeleteUnused implements FileStore.
func (d *DirFileStore) DeleteUnused(ctx context.Context, before time.Time) (int, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, ent := range entries {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || !fileIDRe.MatchString(id) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		d.mu.Lock()
		info, err := d.Stat(ctx, id)
		if err == nil && info.Expires && info.UsedAt == nil && info.CreatedAt.Before(before) {
			data, meta, _ := d.paths(id)
			if err = os.Remove(meta); err == nil {
				deleted++
				if rerr := os.Remove(data); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
					err = rerr
				}
			}
		}
		d.mu.Unlock()
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, os.ErrNotExist) {
			return deleted, err
		}
	}
	return deleted, nil
}
