package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbot/deskbot/plugins/ionos/client"
)

func TestErrorsInEitherLetterCase(t *testing.T) {
	for _, body := range []string{
		`{"Type":"SERVER_NOT_FOUND","Message":"Server not found","Errors":null}`,
		`{"type":"SERVER_NOT_FOUND","message":"Server not found","errors":null}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(body))
		}))
		c, err := client.New(client.Options{BaseURL: srv.URL, Token: "k-" + body[:5]})
		require.NoError(t, err)
		_, err = c.Do(context.Background(), client.Request{Method: "GET", Path: "/servers/X"}, nil)
		require.Error(t, err)
		assert.Equal(t, "IONOS: Server not found (SERVER_NOT_FOUND)", err.Error())
		assert.True(t, client.NotFound(err))
		srv.Close()
	}
}

func TestErrorDetailsAndStatusHints(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tariff":
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"type":"TECHNICAL_TARIFF_VIOLATION","message":"Not allowed by your tariff","errors":{"required":"name"}}`))
		case "/ip":
			w.WriteHeader(406)
		}
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL, Token: "k-details"})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), client.Request{Method: "POST", Path: "/tariff", Body: map[string]any{}}, nil)
	assert.EqualError(t, err, `IONOS: Not allowed by your tariff (TECHNICAL_TARIFF_VIOLATION): {"required":"name"}`)
	_, err = c.Do(context.Background(), client.Request{Method: "GET", Path: "/ip"}, nil)
	assert.ErrorContains(t, err, "does not allow calls from this address")
}

func TestListPagesUntilAShortPage(t *testing.T) {
	var pages []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "k-list", r.Header.Get("X-Token"), "the key travels in X-TOKEN")
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		pages = append(pages, r.URL.RawQuery)
		var items []map[string]any
		for i := (page - 1) * per; i < min(page*per, 7); i++ {
			items = append(items, map[string]any{"id": strconv.Itoa(i)})
		}
		_ = json.NewEncoder(w).Encode(items)
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL, Token: "k-list"})
	require.NoError(t, err)
	var out []struct{ ID string }
	require.NoError(t, c.List(context.Background(), "/servers", map[string][]string{"q": {"web"}}, 3, &out))
	assert.Len(t, out, 7)
	assert.Len(t, pages, 3, "3 + 3 + 1: the short page ends it")
	assert.Contains(t, pages[0], "q=web")
}
