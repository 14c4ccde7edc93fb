// The `surgery` command.
print("surgery: no commands yet")
