package schema

// flags are the compact column attributes used by the table files.
type flags uint8

const (
	key      flags = 1 << iota // part of the primary key
	null                       // nullable
	ins                        // settable by INSERT
	req                        // required by INSERT
	upd                        // settable by UPDATE
	insUpd   = ins | upd
	nullIU   = null | ins | upd
	required = ins | req
)

// col builds a column from its name, type, flags and description.
func col(name string, t Type, f flags, desc string) Column {
	return Column{
		Name:        name,
		Type:        t,
		Description: desc,
		Key:         f&key != 0,
		Nullable:    f&null != 0,
		Insertable:  f&ins != 0,
		Required:    f&req != 0,
		Updatable:   f&upd != 0,
	}
}

// push marks a column as pushed down to the given Graph endpoint.
func push(c Column, endpoint string) Column {
	c.Pushdown = true
	c.Endpoint = endpoint
	return c
}
