package client

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The removes' answers as each independent source documents them
// (testdata/remove-answers.txt names the sources): a list and a boolean
// are both accepted, false is "not found", and a refusal is CLN's message.
func TestRemoveAnswersFromEverySource(t *testing.T) {
	answers := loadSamplesFrom(t, "testdata/remove-answers.txt")
	ctx := context.Background()
	type outcome struct {
		servers  int
		listed   bool
		notFound bool
		refused  bool
	}
	cases := map[string]struct {
		im   bool
		want outcome
	}{
		"im.remove.list":       {true, outcome{servers: 2, listed: true}},
		"im.remove.empty-list": {true, outcome{listed: true}},
		"im.remove.true":       {true, outcome{}},
		"im.remove.false":      {true, outcome{notFound: true}},
		"kc.delete.true":       {false, outcome{}},
		"kc.delete.false":      {false, outcome{notFound: true}},
		"kc.delete.list":       {false, outcome{servers: 1, listed: true}},
		"failure":              {true, outcome{refused: true}},
	}
	require.Len(t, answers, len(cases), "every reference exchange is checked")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, ok := answers[name]
			require.True(t, ok)
			c := serve(t, a.body, false)
			var got outcome
			var err error
			if tc.im {
				var r Removed[IMServer]
				r, err = c.IMKeyRemove(ctx, "IMKEYVALUE")
				got.servers, got.listed = len(r.Items), r.Listed
			} else {
				var r Removed[KCServer]
				r, err = c.EPKCKeyDelete("WsTs821nSAtiastD").Do(ctx)
				got.servers, got.listed = len(r.Items), r.Listed
			}
			got.notFound = errors.Is(err, ErrNotFound)
			var ae *APIError
			got.refused = errors.As(err, &ae)
			if !got.notFound && !got.refused {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestARemoveAnswerOfAnotherShapeIsAClearError(t *testing.T) {
	c := serve(t, `{"success": true, "message": "", "data": {"removed": 1}}`, false)
	_, err := c.IMKeyRemove(context.Background(), "IMKEYVALUE")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neither a list nor true or false")
	assert.False(t, errors.Is(err, ErrNotFound))
}
