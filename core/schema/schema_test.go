package schema

import "testing"

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"first_name": "First name", "FirstName": "First name", "ArtistId": "Artist ID", "id": "ID",
		"HTMLBody": "HTML body", "x": "X", "__": "__", "🎉": "🎉", "order": "Order", "e-mail": "E mail",
	} {
		if got := Humanize(in); got != want {
			t.Errorf("Humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestObjectKeepsOrder(t *testing.T) {
	o := NewObject().Set("b", 1).Set("a", "<x>").Set("b", 2)
	got, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"b":2,"a":"\u003cx\u003e"}` {
		t.Errorf("got %s", got)
	}
}

func TestPointerEscape(t *testing.T) {
	if got := pointerEscape("a/b~c"); got != "a~1b~0c" {
		t.Errorf("got %q", got)
	}
}
