package replicate

import "testing"

func TestNameStyle(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, lower, snake string }{
		{"Tasks", "tasks", "tasks"},
		{"TaskId", "taskid", "task_id"},
		{"CreatedByUserId", "createdbyuserid", "created_by_user_id"},
		{"ETag", "etag", "e_tag"},
		{"HTTPServer", "httpserver", "http_server"},
		{"PROD_Tasks", "prod_tasks", "prod_tasks"},
		{"category1Name", "category1name", "category1_name"},
		{"Task2Id", "task2id", "task2_id"},
		{"sys_columns", "sys_columns", "sys_columns"},
		{"My Column", "my column", "my_column"},
		{"Données", "données", "données"},
		{"__x__", "__x__", "x"},
		{"--", "--", "--"},
	}
	for _, tt := range tests {
		if got := NameLower.Apply(tt.in); got != tt.lower {
			t.Errorf("lower(%q) = %q, want %q", tt.in, got, tt.lower)
		}
		if got := NameSnake.Apply(tt.in); got != tt.snake {
			t.Errorf("snake(%q) = %q, want %q", tt.in, got, tt.snake)
		}
		if got := NameExact.Apply(tt.in); got != tt.in {
			t.Errorf("exact(%q) = %q", tt.in, got)
		}
	}
	for in, want := range map[string]NameStyle{"": NameExact, "Exact": NameExact, "LOWER": NameLower, "snake_case": NameSnake, "snake": NameSnake} {
		if got, err := ParseNameStyle(in); err != nil || got != want {
			t.Errorf("ParseNameStyle(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseNameStyle("camel"); err == nil {
		t.Error("camel accepted")
	}
}
