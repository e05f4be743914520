package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/sdk/httpapi/faultproxy"
)

type item struct {
	ID string `json:"id"`
}

// listServer serves n items honouring page and per_page; without them it
// answers its default: every item when dflt is 0 (as OnApp does), else the
// first dflt items.
func listServer(n, dflt int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if page == 0 {
			page = 1
		}
		if per == 0 {
			per = dflt
		}
		if per == 0 {
			per = n
		}
		var out []item
		for i := (page - 1) * per; i < min(page*per, n); i++ {
			out = append(out, item{ID: fmt.Sprint("vm-", i)})
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

// pagerFor lists /items through the client, page and per_page in the query.
func pagerFor(t *testing.T, p *faultproxy.Proxy, size int, withID, withBody bool) Pager[item] {
	c, err := New(p.URL)
	require.NoError(t, err)
	c.Sleep = noWait
	pg := Pager[item]{Size: size, Fetch: func(ctx context.Context, pg Page) ([]item, []byte, error) {
		var out []item
		resp, err := c.JSON(ctx, &Request{Path: "/items", Effect: Reads, Query: map[string][]string{"page": {strconv.Itoa(pg.Number)}, "per_page": {strconv.Itoa(pg.Size)}}}, &out)
		if err != nil {
			return nil, nil, err
		}
		if !withBody {
			return out, nil, nil
		}
		return out, resp.Body, nil
	}}
	if withID {
		pg.ID = func(i item) string { return i.ID }
	}
	return pg
}

func TestPagerReadsAnHonestListToItsEnd(t *testing.T) {
	cases := map[string]struct{ items, size, requests int }{
		"short last page":     {120, 50, 3},
		"exact multiple":      {100, 50, 3},
		"empty list":          {0, 50, 1},
		"one page, not full":  {7, 50, 2}, // the second, empty, says it was all
		"one page, just full": {50, 50, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := faultproxy.New(t, listServer(tc.items, 20))
			got, err := pagerFor(t, p, tc.size, true, true).All(context.Background())
			require.NoError(t, err)
			assert.Len(t, got, tc.items)
			assert.Equal(t, tc.requests, p.Seen("GET", "/items"))
		})
	}
}

// A server that caps its pages below what was asked (20 of 50) is read to
// the end: its short first page is its page size, not the end of the list.
func TestPagerReadsAServerThatCapsItsPages(t *testing.T) {
	capped := func(n, limit int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			var out []item
			for i := (page - 1) * limit; i < min(page*limit, n); i++ {
				out = append(out, item{ID: fmt.Sprint("vm-", i)})
			}
			_ = json.NewEncoder(w).Encode(out)
		}
	}
	for _, n := range []int{0, 7, 20, 45, 60, 250} {
		p := faultproxy.New(t, capped(n, 20))
		got, err := pagerFor(t, p, 50, true, true).All(context.Background())
		require.NoError(t, err)
		assert.Len(t, got, n, "%d items in pages of 20", n)
	}
}

// A server that ignores paging answers the same page every time: the
// pager says so after one repeat, whichever way it recognises it, instead
// of collecting 120 machines a thousand times.
func TestPagerStopsWhenTheServerIgnoresPaging(t *testing.T) {
	cases := map[string]struct {
		dflt, size     int
		withID, body   bool
		firstPageItems int
	}{
		"everything on every page, by body": {0, 50, false, true, 120},
		"everything on every page, by ids":  {0, 50, true, false, 120},
		"a default page as large as asked":  {50, 50, true, true, 50},
		"a default page larger than asked":  {100, 50, false, true, 100},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := faultproxy.New(t, listServer(120, tc.dflt))
			p.Set(faultproxy.IgnorePaging)
			got, err := pagerFor(t, p, tc.size, tc.withID, tc.body).All(context.Background())
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrPagingIgnored), "%v", err)
			assert.Contains(t, err.Error(), "page 2")
			assert.Len(t, got, tc.firstPageItems, "what was read is returned once")
			assert.Equal(t, 2, p.Seen("GET", "/items"))
		})
	}
}

func TestPagerHasAHardCap(t *testing.T) {
	// An endless list of distinct pages.
	endless := Pager[item]{Size: 10, Fetch: func(ctx context.Context, pg Page) ([]item, []byte, error) {
		out := make([]item, pg.Size)
		for i := range out {
			out[i] = item{ID: fmt.Sprint(pg.Offset + i)}
		}
		b, _ := json.Marshal(out)
		return out, b, nil
	}, ID: func(i item) string { return i.ID }}

	pages := endless
	pages.MaxPages = 5
	got, err := pages.All(context.Background())
	assert.True(t, errors.Is(err, ErrListTooLong), "%v", err)
	assert.Contains(t, err.Error(), "after 5 pages")
	assert.Len(t, got, 50)

	items := endless
	items.MaxItems = 25
	got, err = items.All(context.Background())
	assert.True(t, errors.Is(err, ErrListTooLong), "%v", err)
	assert.Contains(t, err.Error(), "25 items")
	assert.Len(t, got, 25)

	// The defaults hold too.
	got, err = endless.All(context.Background())
	assert.True(t, errors.Is(err, ErrListTooLong), "%v", err)
	assert.Len(t, got, 1000)
}

// A list that moves while it is read shifts an item onto the next page:
// it is kept once, and the list goes on.
func TestPagerKeepsAShiftedItemOnce(t *testing.T) {
	pages := [][]item{{{"a"}, {"b"}}, {{"b"}, {"c"}}, {{"d"}}}
	pg := Pager[item]{Size: 2, ID: func(i item) string { return i.ID }, Fetch: func(ctx context.Context, p Page) ([]item, []byte, error) {
		return pages[p.Number-1], nil, nil
	}}
	got, err := pg.All(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []item{{"a"}, {"b"}, {"c"}, {"d"}}, got)
}

func TestPagerPassesOnAFailedPage(t *testing.T) {
	p := faultproxy.New(t, listServer(120, 0))
	pg := pagerFor(t, p, 50, true, true)
	p.Set(faultproxy.BadGatewayAfterWork)
	_, err := pg.All(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "page 1")
	assert.Equal(t, 3, p.Seen("GET", "/items"), "a page is a read, retried")
}

// With MinCap, a first page shorter than any cap the server may have is
// the whole list: one request, not a second to find it empty. A page at
// or above MinCap may still be the server's cap, so the next page tells.
func TestPagerEndsAtAShortFirstPageBelowMinCap(t *testing.T) {
	cases := map[string]struct{ items, requests int }{
		"3 of 100":              {3, 1},
		"empty":                 {0, 1},
		"just below the cap":    {9, 1},
		"at the cap: may be it": {10, 2},
		"many pages":            {250, 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := faultproxy.New(t, listServer(tc.items, 20))
			pg := pagerFor(t, p, 100, true, true)
			pg.MinCap = 10
			got, err := pg.All(context.Background())
			require.NoError(t, err)
			assert.Len(t, got, tc.items)
			assert.Equal(t, tc.requests, p.Seen("GET", "/items"))
		})
	}
}
