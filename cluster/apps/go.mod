module zdrender.test/apps

go 1.22
