package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/cloudflow/client"
	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

// exchange is a request and its answer as an independent source gives
// them (testdata/*.json names the source): OnApp's own clients and tests,
// and the seed.
type exchange struct {
	Source  []string `json:"source"`
	Request struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
		Item   json.RawMessage `json:"item"`
	} `json:"response"`
}

func load(t *testing.T, name string) exchange {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var x exchange
	require.NoError(t, json.Unmarshal(b, &x))
	require.NotEmpty(t, x.Source, "%s names its source", name)
	return x
}

// recorder counts what reached a reference panel, by method and path.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
	body map[string][]byte
}

func (r *recorder) note(req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen, r.body = map[string]int{}, map[string][]byte{}
	}
	k := req.Method + " " + req.URL.Path
	r.seen[k]++
	r.body[k] = b
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[k]
}

func answer(w http.ResponseWriter, status int, body json.RawMessage) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if len(body) > 0 && string(body) != "null" {
		_, _ = w.Write(body)
	}
}

// unpagedPanel answers GET /virtual_machines.json as OnApp's own client
// reads it: the whole list, n machines, whatever page is asked for.
func unpagedPanel(t *testing.T, n int, rec *recorder) http.Handler {
	x := load(t, "vms-unpaged-squall.json")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.note(r)
		if r.Method != x.Request.Method || r.URL.Path != x.Request.Path {
			answer(w, http.StatusNotFound, json.RawMessage(`{"errors":["not in this exchange"]}`))
			return
		}
		var list []map[string]map[string]any
		for i := 1; i <= n; i++ {
			var item map[string]map[string]any
			require.NoError(t, json.Unmarshal(x.Response.Item, &item))
			v := item["virtual_machine"]
			v["id"], v["label"], v["hostname"] = 2000+i, fmt.Sprintf("web-%03d", i), fmt.Sprintf("web-%03d.example.net", i)
			v["identifier"] = fmt.Sprintf("id%012d", i)
			list = append(list, item)
		}
		b, _ := json.Marshal(list)
		answer(w, x.Response.Status, b)
	})
}

// Against a panel that ignores page and per_page (OnApp's own client
// lists unpaged), List read 1,000 pages and 120,000 items from 120
// machines. Now the second page, the same machines again, ends it, and
// the first answer, complete, is the list, each machine once.
func TestAListEndsWhenThePanelIgnoresPaging(t *testing.T) {
	rec := &recorder{}
	p := faultproxy.New(t, unpagedPanel(t, 120, rec))
	p.Set(faultproxy.IgnorePaging)
	c := newClient(t, p.URL)
	var vms []struct {
		ID    int    `json:"id"`
		Label string `json:"label"`
	}
	require.NoError(t, c.List(context.Background(), c.EPVMs(), &vms))
	assert.Len(t, vms, 120)
	ids := map[int]bool{}
	for _, v := range vms {
		ids[v.ID] = true
	}
	assert.Len(t, ids, 120, "each machine once")
	assert.LessOrEqual(t, rec.count("GET /virtual_machines.json"), 2)
}

// A panel that honours per_page but not page sends the first hundred
// machines for every page: that is not the whole list, and List says so
// rather than answer with a third of it. A panel that caps its pages
// below what was asked (50 of 100) is still read to the end.
func TestAListIsNeverQuietlyCutShort(t *testing.T) {
	machines := func(from, to int) []map[string]any {
		var out []map[string]any
		for i := from; i < to; i++ {
			out = append(out, map[string]any{"virtual_machine": map[string]any{"id": i + 1, "label": fmt.Sprint("vm-", i+1)}})
		}
		return out
	}
	sameFirstPage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		b, _ := json.Marshal(machines(0, min(per, 250)))
		answer(w, http.StatusOK, b)
	})
	c := newClient(t, faultproxy.New(t, sameFirstPage).URL)
	var vms []struct {
		ID int `json:"id"`
	}
	err := c.List(context.Background(), c.EPVMs(), &vms)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the list is incomplete")

	capped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		b, _ := json.Marshal(machines(min((page-1)*50, 250), min(page*50, 250)))
		answer(w, http.StatusOK, b)
	})
	c = newClient(t, faultproxy.New(t, capped).URL)
	vms = nil
	require.NoError(t, c.List(context.Background(), c.EPVMs(), &vms))
	assert.Len(t, vms, 250)
}

// A panel that pages (the simulator, as OnApp documents page/per_page)
// is read page by page to the end.
func TestAListPagesWhenThePanelPages(t *testing.T) {
	p := faultproxy.New(t, newSim(t, simWith(250)))
	c := newClient(t, p.URL)
	var vms []struct {
		ID int `json:"id"`
	}
	require.NoError(t, c.List(context.Background(), c.EPVMs(), &vms))
	assert.Len(t, vms, 253)
	assert.Equal(t, 3, p.Seen("GET", "/virtual_machines.json"))
}

// resizePanel answers a resize in the form of one reference exchange;
// the other form gets other (404: no route, 405: no such method).
func resizePanel(t *testing.T, file string, other int, rec *recorder) http.Handler {
	x := load(t, file)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.note(r)
		if r.Method == x.Request.Method && r.URL.Path == x.Request.Path {
			answer(w, x.Response.Status, x.Response.Body)
			return
		}
		answer(w, other, json.RawMessage(`{"errors":["No route matches `+r.Method+" "+r.URL.Path+`"]}`))
	})
}

var size = map[string]any{"memory": int64(4096), "allow_cold_resize": "1", "allow_migration": "0"}

// The body sent is the reference's: the same fields under the same root.
func sameFields(t *testing.T, x exchange, sent []byte) {
	t.Helper()
	var want, got map[string]map[string]any
	require.NoError(t, json.Unmarshal(x.Request.Body, &want))
	require.NoError(t, json.Unmarshal(sent, &got), "%s", sent)
	require.Contains(t, got, "virtual_machine")
	for k := range want["virtual_machine"] {
		assert.Contains(t, got["virtual_machine"], k)
	}
}

// The seed's form: PUT /virtual_machines/:id.json answered 204. Nothing
// else is sent.
func TestResizeInTheSeedsForm(t *testing.T) {
	rec := &recorder{}
	p := faultproxy.New(t, resizePanel(t, "resize-put-seed.json", http.StatusNotFound, rec))
	c := newClient(t, p.URL)
	res, err := c.Call(context.Background(), c.EPResize("101", size))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, res.Status)
	assert.Equal(t, 1, rec.count("PUT /virtual_machines/101.json"))
	assert.Zero(t, rec.count("POST /virtual_machines/101/resize.json"))
	sameFields(t, load(t, "resize-put-seed.json"), rec.body["PUT /virtual_machines/101.json"])
}

// OnApp's Ruby client's form: a panel that has no PUT route for it
// (404, or 405) gets POST /virtual_machines/:id/resize.json, once.
func TestResizeInSquallsFormWhenThePanelHasNoPut(t *testing.T) {
	for _, other := range []int{http.StatusNotFound, http.StatusMethodNotAllowed} {
		t.Run(http.StatusText(other), func(t *testing.T) {
			rec := &recorder{}
			p := faultproxy.New(t, resizePanel(t, "resize-post-squall.json", other, rec))
			c := newClient(t, p.URL)
			res, err := c.Call(context.Background(), c.EPResize("101", size))
			require.NoError(t, err)
			assert.Equal(t, http.StatusCreated, res.Status)
			var v struct {
				ID int `json:"id"`
			}
			require.NoError(t, res.Decode(&v))
			assert.Equal(t, 101, v.ID)
			assert.Equal(t, 1, rec.count("PUT /virtual_machines/101.json"))
			assert.Equal(t, 1, rec.count("POST /virtual_machines/101/resize.json"))
			sameFields(t, load(t, "resize-post-squall.json"), rec.body["POST /virtual_machines/101/resize.json"])
		})
	}
}

// The other form is tried only after the panel said it has no such
// route: after a lost answer (the PUT may have worked) or a refusal,
// nothing more is sent.
func TestResizeNeverFallsBackAfterAnythingElse(t *testing.T) {
	for name, tc := range map[string]struct {
		fault  faultproxy.Fault
		status int
	}{
		"502 after the work":   {faultproxy.BadGatewayAfterWork, http.StatusNoContent},
		"reset after the work": {faultproxy.ResetAfterWork, http.StatusNoContent},
		"refused (422)":        {faultproxy.None, http.StatusUnprocessableEntity},
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			status := tc.status
			p := faultproxy.New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec.note(r)
				if status == http.StatusUnprocessableEntity {
					answer(w, status, json.RawMessage(`{"errors":{"memory":["is too large"]}}`))
					return
				}
				answer(w, status, nil)
			}))
			p.Set(tc.fault)
			c := newClient(t, p.URL)
			_, err := c.Call(context.Background(), c.EPResize("101", size))
			require.Error(t, err)
			assert.Equal(t, 1, rec.count("PUT /virtual_machines/101.json"))
			assert.Zero(t, rec.count("POST /virtual_machines/101/resize.json"), "%v", err)
			var ae *client.APIError
			if status == http.StatusUnprocessableEntity {
				assert.ErrorAs(t, err, &ae)
			} else {
				assert.Contains(t, err.Error(), "/cloudflow vm info 101")
			}
		})
	}
}
