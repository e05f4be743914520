// Package imagetest builds the container image from the Containerfile
// and checks what an operator relies on: no shell, static binaries, the
// deskbot user, plugin pins that match, and an entrypoint that serves
// as uid 10001 with nothing but the image's own files.
//
// It needs podman and root (it runs the image's entrypoint under chroot):
// without them it is skipped, unless DESKBOT_REQUIRE_PODMAN=1, when it
// fails. The first run builds a local Go base image where the default one
// cannot be pulled (scripts/build-base-image.sh); later runs reuse it and
// the build cache.
package imagetest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskbot/deskbot/internal/testbin"
)

const (
	imageName = "localhost/deskbot-imagetest"
	version   = "imagetest"
	plugins   = "/usr/local/lib/deskbot/plugins"
	// canary stands for the Slack secrets: it must never be printed.
	canary = "canary-5f2b9c1e-secret"
)

var wantPlugins = []string{"cln", "cloudflow", "ionos", "whm"}

func requirements(t *testing.T) {
	t.Helper()
	why := ""
	if _, err := exec.LookPath("podman"); err != nil {
		why = "podman is not installed"
	} else if os.Geteuid() != 0 {
		why = "building and chroot need root"
	}
	if why == "" {
		return
	}
	if os.Getenv("DESKBOT_REQUIRE_PODMAN") == "1" {
		t.Fatalf("DESKBOT_REQUIRE_PODMAN=1 but %s", why)
	}
	t.Skip(why + " (DESKBOT_REQUIRE_PODMAN=1 makes this a failure)")
}

func TestImage(t *testing.T) {
	requirements(t)
	ctx := t.Context()
	root := testbin.Root()

	// The last run's image goes, or it would linger untagged.
	_ = exec.Command("podman", "rmi", "--ignore", imageName+":"+version, imageName+":latest").Run()

	// Build as make image does.
	var buildLog bytes.Buffer
	build := exec.CommandContext(ctx, filepath.Join(root, "scripts", "build-image.sh"))
	build.Dir = root
	build.Env = append(os.Environ(), "ENGINE=podman", "IMAGE="+imageName, "VERSION="+version,
		// No intermediate images piling up run after run; the Go build
		// cache (a cache mount) still makes a rebuild quick.
		"BUILD_FLAGS=--layers=false")
	build.Stdout, build.Stderr = &buildLog, &buildLog
	started := time.Now()
	if err := build.Run(); err != nil {
		t.Fatalf("image build: %v\n%s", err, buildLog.String())
	}
	t.Logf("image built in %s", time.Since(started).Round(time.Second))
	image := imageName + ":" + version

	t.Run("config", func(t *testing.T) { checkImageConfig(t, image) })

	rootfs, headers := exportImage(t, image)

	t.Run("no shell", func(t *testing.T) {
		for name := range headers {
			switch filepath.Base(name) {
			case "sh", "bash", "dash", "ash", "busybox":
				t.Errorf("the image has a shell: /%s", name)
			}
		}
		if _, err := os.Lstat(filepath.Join(rootfs, "bin")); err == nil {
			t.Errorf("the image has a /bin")
		}
	})

	t.Run("static binaries", func(t *testing.T) {
		bins := []string{"usr/local/bin/bot"}
		for _, p := range wantPlugins {
			bins = append(bins, strings.TrimPrefix(plugins, "/")+"/"+p)
		}
		for _, b := range bins {
			h, ok := headers[b]
			if !ok {
				t.Errorf("/%s is missing", b)
				continue
			}
			if h.Mode&0o111 == 0 {
				t.Errorf("/%s is not executable (mode %o)", b, h.Mode)
			}
			f, err := elf.Open(filepath.Join(rootfs, b))
			if err != nil {
				t.Errorf("/%s: %v", b, err)
				continue
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("/%s is dynamically linked (it has an ELF interpreter)", b)
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("/%s needs shared libraries %v", b, libs)
			}
			f.Close()
		}
	})

	t.Run("deskbot user", func(t *testing.T) {
		passwd := readFile(t, rootfs, "etc/passwd")
		if !strings.Contains("\n"+passwd, "\ndeskbot:x:10001:10001:") {
			t.Errorf("/etc/passwd has no deskbot user 10001:\n%s", passwd)
		}
		if group := readFile(t, rootfs, "etc/group"); !strings.Contains("\n"+group, "\ndeskbot:x:10001:") {
			t.Errorf("/etc/group has no deskbot group 10001:\n%s", group)
		}
		for _, dir := range []string{"tmp", "var/lib/deskbot"} {
			h, ok := headers[dir+"/"]
			if !ok {
				t.Errorf("/%s is missing", dir)
				continue
			}
			if h.Uid != 10001 || h.Gid != 10001 {
				t.Errorf("/%s is owned by %d:%d, want 10001:10001", dir, h.Uid, h.Gid)
			}
		}
		if h := headers["tmp/"]; h != nil && h.Mode&0o1777 != 0o1777 {
			t.Errorf("/tmp has mode %o, want 1777", h.Mode&0o7777)
		}
		if h := headers["etc/deskbot/bot.yaml"]; h == nil || h.Uid != 0 {
			t.Errorf("/etc/deskbot/bot.yaml should be root's, read-only to the bot: %+v", h)
		}
	})

	t.Run("pins", func(t *testing.T) {
		sums := readFile(t, rootfs, strings.TrimPrefix(plugins, "/")+"/SHA256SUMS")
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(sums), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q is not in sha256sum format", line)
			}
			names = append(names, name)
			b, err := os.ReadFile(filepath.Join(rootfs, plugins, name))
			if err != nil {
				t.Errorf("SHA256SUMS names %s: %v", name, err)
				continue
			}
			if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
				t.Errorf("SHA256SUMS pins %s to %s, but it is %x", name, sum, got)
			}
		}
		if !slices.Equal(names, wantPlugins) {
			t.Errorf("SHA256SUMS lists %v, want %v", names, wantPlugins)
		}
	})

	t.Run("CA certificates", func(t *testing.T) {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(readFile(t, rootfs, "etc/ssl/certs/ca-certificates.crt"))) {
			t.Error("/etc/ssl/certs/ca-certificates.crt holds no certificates")
		}
	})

	t.Run("entrypoint serves", func(t *testing.T) { runEntrypoint(t, rootfs) })
}

// checkImageConfig checks the user, entrypoint, port and labels.
func checkImageConfig(t *testing.T, image string) {
	out, err := exec.Command("podman", "image", "inspect", image).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var inspect []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]any
			Labels       map[string]string
			Volumes      map[string]any
		}
		Size int64
	}
	if err := json.Unmarshal(out, &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	c := inspect[0].Config
	t.Logf("image size %.1f MB", float64(inspect[0].Size)/1e6)
	if c.User != "10001:10001" {
		t.Errorf("user %q, want 10001:10001", c.User)
	}
	if want := []string{"/usr/local/bin/bot", "serve", "--config", "/etc/deskbot/bot.yaml"}; !slices.Equal(c.Entrypoint, want) {
		t.Errorf("entrypoint %q, want %q", c.Entrypoint, want)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/var/lib/deskbot"]; !ok {
		t.Errorf("volumes %v, want /var/lib/deskbot", c.Volumes)
	}
	if c.Labels["org.opencontainers.image.version"] != version || c.Labels["org.opencontainers.image.title"] != "deskbot" || c.Labels["org.opencontainers.image.source"] == "" {
		t.Errorf("labels %v", c.Labels)
	}
}

// exportImage unpacks the image's filesystem into a temporary directory
// and returns it with the archive's headers by path.
func exportImage(t *testing.T, image string) (string, map[string]*tar.Header) {
	t.Helper()
	out, err := exec.Command("podman", "create", image).Output()
	if err != nil {
		t.Fatalf("podman create: %v", err)
	}
	id := strings.TrimSpace(string(out))
	defer func() { _ = exec.Command("podman", "rm", "-f", id).Run() }()
	dir := t.TempDir()
	archive := filepath.Join(dir, "image.tar")
	if out, err := exec.Command("podman", "export", "-o", archive, id).CombinedOutput(); err != nil {
		t.Fatalf("podman export: %v\n%s", err, out)
	}
	headers := map[string]*tar.Header{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the export: %v", err)
		}
		headers[strings.TrimPrefix(h.Name, "./")] = h
	}
	f.Close()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "--numeric-owner", "-xpf", archive, "-C", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("unpacking the export: %v\n%s", err, out)
	}
	os.Remove(archive)
	return rootfs, headers
}

func readFile(t *testing.T, rootfs, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rootfs, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runEntrypoint runs the image's entrypoint in its own filesystem, as
// uid 10001, until /readyz answers 200, then stops it with SIGTERM. The
// filesystem is the image's alone: no /dev, /proc or /etc/resolv.conf
// that a container runtime would add, so nothing the bot needs at start
// can come from anywhere else.
func runEntrypoint(t *testing.T, rootfs string) {
	var inspect []struct{ Config struct{ Entrypoint []string } }
	out, err := exec.Command("podman", "image", "inspect", imageName+":"+version).Output()
	if err != nil || json.Unmarshal(out, &inspect) != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	argv := append(inspect[0].Config.Entrypoint, "--addr", "127.0.0.1:0")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     rootfs,
		Credential: &syscall.Credential{Uid: 10001, Gid: 10001, Groups: []uint32{}},
		Setpgid:    true,
	}
	cmd.Dir = "/"
	cmd.Env = []string{"SLACK_SIGNING_SECRET=" + canary, "SLACK_BOT_TOKEN=xoxb-" + canary}
	var stderr testbin.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v in the image: %v", argv, err)
	}
	exited := make(chan error, 1)
	addrc := make(chan string, 1)
	var stdoutText testbin.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			stdoutText.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "deskbot serving on http://"); ok {
				addr, _, _ := strings.Cut(rest, " ")
				addrc <- addr
			}
		}
		exited <- cmd.Wait()
	}()
	done := false
	defer func() {
		if !done {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()

	var addr string
	select {
	case addr = <-addrc:
	case err := <-exited:
		done = true
		t.Fatalf("the bot exited before serving: %v\nstdout:\n%s\nstderr:\n%s", err, stdoutText.String(), stderr.String())
	case <-time.After(testbin.Patience):
		t.Fatalf("the bot did not serve within %s\nstderr:\n%s", testbin.Patience, stderr.String())
	}

	// Ready: the store answers and the plugins (started from the image's
	// plugin directory, checked against its SHA256SUMS) are up.
	ctx, cancel := context.WithTimeout(t.Context(), testbin.Patience)
	defer cancel()
	var last string
	for ready := false; !ready; {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = resp.Status + ": " + string(body)
			ready = resp.StatusCode == http.StatusOK
		} else {
			last = err.Error()
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz never answered 200; last: %s\nstderr:\n%s", last, stderr.String())
		case err := <-exited:
			done = true
			t.Fatalf("the bot exited: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("/readyz: %s", last)

	// Its state went where the image says, written as the deskbot user.
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(rootfs, "var/lib/deskbot/deskbot.db"), &st); err != nil {
		t.Errorf("no database in /var/lib/deskbot: %v", err)
	} else if st.Uid != 10001 {
		t.Errorf("/var/lib/deskbot/deskbot.db is owned by uid %d, want 10001", st.Uid)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		done = true
		if err != nil {
			t.Errorf("after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(testbin.Patience):
		t.Fatalf("the bot did not exit within %s of SIGTERM", testbin.Patience)
	}
	if all := stdoutText.String() + stderr.String(); strings.Contains(all, canary) {
		t.Errorf("a secret reached the output:\n%s", all)
	}
}
