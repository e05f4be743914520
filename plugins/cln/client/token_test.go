package client

import "testing"

func TestTokenVector(t *testing.T) {
	got := Token("customer_login", "my_secret_key", 1401189361)
	want := "customer_login|1401189361|5ff6e3d472baae9c7a27221b7fdd08f1c7672979"
	if got != want {
		t.Fatalf("Token = %s, want %s", got, want)
	}
}
