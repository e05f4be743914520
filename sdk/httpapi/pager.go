package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrPagingIgnored is wrapped by a list's error when the provider answered
// a page it had already answered: it ignores the paging parameters, and
// asking for more pages would only collect the same items again.
var ErrPagingIgnored = errors.New("the provider ignores paging")

// ErrListTooLong is wrapped by a list's error when it reached the pager's
// cap on pages or items before it ended.
var ErrListTooLong = errors.New("the list is longer than the bot reads")

// Page is one request of a list. Number counts from 1; Offset is the index
// of the page's first item; Size is how many items it asks for.
type Page struct {
	Number, Offset, Size int
}

// Pager reads a list page by page, and cannot run away: it stops at an
// empty or short page, and fails clearly on a page it has seen before (the
// same body, or the same set of ids) and at a cap on pages and items.
// Every list of every provider uses one.
//
// A first page shorter than asked may be the whole list or a server that
// caps its pages below Size: the pager asks for the next page to tell
// (unless MinCap rules the cap out), and from then on a page is short if
// it is shorter than the server's own page. Offsets count the items
// received, so a capped page skips nothing.
type Pager[T any] struct {
	// Size is the page size asked for; a page with fewer items is the last.
	Size int
	// Fetch asks for one page and returns its items and the raw body
	// (nil if there is none to compare).
	Fetch func(ctx context.Context, p Page) (items []T, body []byte, err error)
	// ID names an item, if the list has ids: a page with the same set of
	// ids as an earlier one is a repeat, and an item seen on an earlier
	// page (the list moved while it was read) is kept once. Set ID or
	// return bodies, or only the caps stop a server that ignores paging.
	ID func(T) string
	// MaxPages and MaxItems cap the list (100 pages, 10,000 items if 0).
	MaxPages, MaxItems int
	// MinCap, if set, is the smallest page a server is taken to cap its
	// pages at: a first page shorter than both Size and MinCap is the
	// whole list, and no second page is asked for. Against a rate limit
	// that halves the calls of every short list. 0: any short first page
	// may be the server's cap, and the next page tells.
	MinCap int
}

// All reads every page. With ErrPagingIgnored or ErrListTooLong it also
// returns the items read so far (each once), for a caller that can use
// them, saying so.
func (p Pager[T]) All(ctx context.Context) ([]T, error) {
	if p.Size <= 0 {
		return nil, errors.New("pager: a page size is required")
	}
	maxPages, maxItems := p.MaxPages, p.MaxItems
	if maxPages <= 0 {
		maxPages = 100
	}
	if maxItems <= 0 {
		maxItems = 10000
	}
	bodies := map[[32]byte]int{}
	sets := map[[32]byte]int{}
	ids := map[string]bool{}
	var out []T
	size, offset := p.Size, 0
	for n := 1; ; n++ {
		if n > maxPages {
			return out, fmt.Errorf("%w: stopped after %d pages (%d items); narrow the list", ErrListTooLong, maxPages, len(out))
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		items, body, err := p.Fetch(ctx, Page{Number: n, Offset: offset, Size: p.Size})
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", n, err)
		}
		if len(items) == 0 {
			return out, nil
		}
		if body != nil {
			h := sha256.Sum256(body)
			if prev, ok := bodies[h]; ok {
				return out, fmt.Errorf("%w: page %d is the same as page %d; the list may be incomplete", ErrPagingIgnored, n, prev)
			}
			bodies[h] = n
		}
		if p.ID != nil {
			page := make([]string, len(items))
			for i, it := range items {
				page[i] = p.ID(it)
			}
			slices.Sort(page)
			h := sha256.Sum256([]byte(strings.Join(page, "\x00")))
			if prev, ok := sets[h]; ok {
				return out, fmt.Errorf("%w: page %d holds the same items as page %d; the list may be incomplete", ErrPagingIgnored, n, prev)
			}
			sets[h] = n
		}
		for _, it := range items {
			if p.ID != nil {
				id := p.ID(it)
				if ids[id] {
					continue
				}
				ids[id] = true
			}
			if len(out) == maxItems {
				return out, fmt.Errorf("%w: stopped at %d items; narrow the list", ErrListTooLong, maxItems)
			}
			out = append(out, it)
		}
		offset += len(items)
		if n == 1 && p.MinCap > 0 && len(items) < min(size, p.MinCap) {
			// Fewer than any page the server would cap at: all there is.
			return out, nil
		}
		if n == 1 && len(items) < size {
			// The whole list, or the server's page size: the next page
			// tells.
			size = len(items)
			continue
		}
		if len(items) < size {
			return out, nil
		}
	}
}
