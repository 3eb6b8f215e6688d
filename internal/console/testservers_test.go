package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestMail is a message the test SMTP server accepted.
type TestMail struct {
	From string
	To   []string
	Data string
	User string // who authenticated
	TLS  bool   // the session had upgraded with STARTTLS
}

// TestSMTP is an in-process SMTP server (github.com/emersion/go-smtp)
// on loopback that requires STARTTLS before AUTH PLAIN, with a
// self-signed certificate whose PEM is in CAFile.
type TestSMTP struct {
	Host       string
	Port       int
	CAFile     string
	User, Pass string
	Mail       chan TestMail
}

// NewTestSMTP starts a TestSMTP, stopped at the end of the test.
func NewTestSMTP(t testing.TB) *TestSMTP {
	t.Helper()
	cert, caPEM := selfSigned(t)
	dir := t.TempDir()
	ts := &TestSMTP{Host: "127.0.0.1", CAFile: filepath.Join(dir, "smtp-ca.pem"), User: "alerts",
		Pass: "smtp-pass-" + randomHex(6), Mail: make(chan TestMail, 32)}
	if err := os.WriteFile(ts.CAFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{ts: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.AllowInsecureAuth = false
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ts
}

type smtpSession struct {
	ts   *TestSMTP
	conn *smtp.Conn
	msg  TestMail
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.ts.User || pass != s.ts.Pass {
			return errors.New("invalid credentials")
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.msg.User == "" {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.msg.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := s.msg
	m.Data = string(b)
	_, m.TLS = s.conn.TLSConnectionState()
	s.ts.Mail <- m
	s.msg.To = nil
	return nil
}

func (s *smtpSession) Reset()        { s.msg = TestMail{User: s.msg.User} }
func (s *smtpSession) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and localhost, and its
// PEM (it is its own CA).
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "planner test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM
}

// TestHook is an httptest webhook receiver.
type TestHook struct {
	URL   string
	Calls chan TestHookCall
}

// TestHookCall is one POST the receiver got.
type TestHookCall struct {
	Header http.Header
	Body   map[string]any
	Raw    string
}

// NewTestHook starts a webhook receiver; its URL carries a token in the
// path, as chat webhooks do.
func NewTestHook(t testing.TB) *TestHook {
	t.Helper()
	h := &TestHook{Calls: make(chan TestHookCall, 32)}
	token := "hook-token-" + randomHex(8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, token) {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		h.Calls <- TestHookCall{Header: r.Header.Clone(), Body: m, Raw: string(b)}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/hooks/" + token
	return h
}

// WaitMail returns the next message, failing the test after d.
func (ts *TestSMTP) WaitMail(t testing.TB, d time.Duration) TestMail {
	t.Helper()
	select {
	case m := <-ts.Mail:
		return m
	case <-time.After(d):
		t.Fatalf("no email reached the test SMTP server within %s", d)
	}
	return TestMail{}
}

// WaitCall returns the next webhook call, failing the test after d.
func (h *TestHook) WaitCall(t testing.TB, d time.Duration) TestHookCall {
	t.Helper()
	select {
	case c := <-h.Calls:
		return c
	case <-time.After(d):
		t.Fatalf("no webhook call arrived within %s", d)
	}
	return TestHookCall{}
}

// PortString is Port as text.
func (ts *TestSMTP) PortString() string { return strconv.Itoa(ts.Port) }
